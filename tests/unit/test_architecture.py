"""The package's shape, enforced: layers and what each may import, small signatures.

ARCHITECTURE.md describes the layers; this test is the contract that keeps it true. Every
import in every module counts, including those inside functions (lazy imports still couple).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "mkdocs_s3_crossaccount"
NAME = "mkdocs_s3_crossaccount"

# layer -> (our layers it may import, third-party top-level modules it may import)
CONTRACT: dict[str, tuple[set[str], set[str]]] = {
    "core": ({"core"}, set()),
    "config": ({"core", "config"}, {"yaml", "tomli"}),
    "aws": ({"core", "config", "aws"}, {"boto3", "botocore", "s3transfer", "awscrt"}),
    "engine": ({"core", "config", "aws", "engine"}, set()),
    "hosts": ({"core", "config", "hosts", "engine"}, {"mkdocs", "properdocs"}),
    "cli": ({"core", "config", "aws", "engine", "hosts", "cli", "demo", "package"}, {"click"}),
    "demo": ({"core", "config", "aws", "engine", "demo"}, {"boto3", "botocore"}),
    "package": ({"core", "config", "engine", "package"}, set()),
}


def layer_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    if len(rel.parts) == 1:
        return {"engine": "engine", "__main__": "cli"}.get(rel.stem, "package")
    return rel.parts[0]


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg_parts = [NAME, *path.relative_to(PACKAGE).parent.parts]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg_parts[: len(pkg_parts) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module == NAME:  # `from mkdocs_s3_crossaccount import x`: x may be a layer
                found += [(node.lineno, f"{NAME}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, module))
    return found


def target_layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] == "engine":
        return "engine"
    return parts[1] if (PACKAGE / parts[1]).is_dir() else "package"


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_in_a_layer() -> None:
    assert {layer_of(p) for p in MODULES} <= set(CONTRACT)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_layers(path: Path) -> None:
    layer = layer_of(path)
    ours, third_party = CONTRACT[layer]
    wrong = []
    for line, module in imports_of(path):
        top = module.split(".")[0]
        if top == "__future__" or top in sys.stdlib_module_names:
            continue
        if top == NAME:
            if target_layer(module) not in ours:
                wrong.append(f"line {line}: {module} ({target_layer(module)})")
        elif top not in third_party:
            wrong.append(f"line {line}: {module} (third-party)")
    assert not wrong, f"{layer}/ may import only {sorted(ours)} and {sorted(third_party) or 'no third-party'}: {wrong}"


def test_core_runs_without_any_sdk_or_host() -> None:
    """Import every core module in a fresh interpreter: no boto3, botocore, mkdocs or click gets loaded."""
    mods = [f"{NAME}.core.{p.stem}" for p in sorted((PACKAGE / "core").glob("*.py")) if p.stem != "__init__"]
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3','botocore','s3transfer','awscrt',"
        "'mkdocs','properdocs','click','yaml'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"core/ pulled in {out}"


MAX_PARAMETERS = 6


def test_no_function_takes_more_than_six_parameters() -> None:
    """Keyword groups become small dataclasses (self/cls, *args and **kwargs are not counted)."""
    over = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                names = [x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs] if x.arg not in ("self", "cls")]
                if len(names) > MAX_PARAMETERS:
                    over.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({len(names)})")
    assert not over, over


def _protocol_methods() -> set[str]:
    """Method names documented on one of our Protocols (Destination, Transfer, Cdn)."""
    names: set[str] = set()
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(getattr(b, "id", None) == "Protocol" for b in node.bases):
                names |= {f.name for f in node.body if isinstance(f, ast.FunctionDef) and ast.get_docstring(f)}
    return names


def test_every_public_function_and_class_has_a_docstring() -> None:
    """Methods implementing a documented Protocol method inherit its docstring."""
    inherited = _protocol_methods()
    missing = []

    def visit(node: ast.AST, path: Path, cls: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not child.name.startswith(
                "_"
            ):
                implements = cls is not None and not isinstance(child, ast.ClassDef) and child.name in inherited
                if ast.get_docstring(child) is None and not implements:
                    missing.append(f"{path.relative_to(PACKAGE)}:{child.lineno} {child.name}")
                if isinstance(child, ast.ClassDef):
                    visit(child, path, child.name)

    for path in MODULES:
        visit(ast.parse(path.read_text(encoding="utf-8")), path, None)
    assert not missing, missing
