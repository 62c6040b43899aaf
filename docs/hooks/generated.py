"""MkDocs hook of the documentation site: pages whose content comes from the code or the repository.

* ``<!-- options-reference -->`` in a page becomes the option table that
  ``mkdocs_s3_crossaccount.config.schema`` generates (``markdown_table()``) from the option schema, so the
  reference cannot drift from the code. Where that module is not there yet, a clear placeholder is
  written instead (the build still passes).
* ``<!-- benchmarks -->`` becomes ``BENCHMARKS.md`` of the repository root (written by
  ``bench/run.py``), without its first heading; the scenario label of the plain
  ``aws sts assume-role`` + ``aws s3 cp`` script is shown as ``script-cp``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

OPTIONS_MARKER = "<!-- options-reference -->"
BENCHMARKS_MARKER = "<!-- benchmarks -->"
PLACEHOLDER = (
    '!!! warning "Option table not generated"\n'
    "    This build could not import the option table of `mkdocs_s3_crossaccount.config.schema`, which "
    "generates this table from the option definitions. Install the package from the same checkout "
    "(`pip install -e '.[docs]'`) and build again.\n"
)


def options_markdown() -> str:
    """The option table from the schema (``options_markdown`` or ``markdown_table``), else the placeholder."""
    try:
        from mkdocs_s3_crossaccount.config import schema
    except ImportError:
        return PLACEHOLDER
    generate = getattr(schema, "options_markdown", None) or getattr(schema, "markdown_table", None)
    return PLACEHOLDER if generate is None else str(generate())


def benchmarks_markdown(config_file: str) -> str:
    path = Path(config_file).resolve().parent.parent / "BENCHMARKS.md"
    if not path.is_file():
        return '!!! warning "No benchmark report"\n    `BENCHMARKS.md` was not found next to `docs/`.\n'
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\A# [^\n]*\n", "", text)  # the page has its own title
    return re.sub(r"^(#+) ", r"#\1 ", text, flags=re.MULTILINE)  # one level below the page title


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if OPTIONS_MARKER in markdown:
        markdown = markdown.replace(OPTIONS_MARKER, options_markdown())
    if BENCHMARKS_MARKER in markdown:
        markdown = markdown.replace(BENCHMARKS_MARKER, benchmarks_markdown(str(config["config_file_path"])))
    return markdown
