"""The docs say exactly what `lock: false` risks (issue 10, item 15): the option's own doc text and the
README's reliability section name each risk and what still holds."""

from __future__ import annotations

import ast
from pathlib import Path

import mkdocs_s3_crossaccount

PACKAGE = Path(mkdocs_s3_crossaccount.__file__).parent
README = PACKAGE.parent / "README.md"

RISKS = ("mix of both builds", "missing", "unmanaged", "outside the prefix", "resource_group")


def _option_docs() -> list[str]:
    """Every string literal of the option declarations (config/ and the MkDocs host) that talks of lock: false."""
    found = []
    for path in [*(PACKAGE / "config").glob("*.py"), *(PACKAGE / "hosts").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "lock: false" in node.value:
                found.append(" ".join(node.value.split()))
    return found


def test_the_lock_options_doc_says_what_lock_false_risks() -> None:
    docs = _option_docs()
    assert docs, "no option doc mentions lock: false"
    assert any(all(risk in doc for risk in RISKS) for doc in docs), docs


def test_the_readme_says_what_lock_false_risks() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert "What `lock: false` risks" in text
    for risk in (*RISKS, "deleted them as stale", "NO PUBLISH LOCK"):
        assert risk in text, risk
