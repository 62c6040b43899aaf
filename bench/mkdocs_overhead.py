"""Scenario (e): what the plugin adds to ``mkdocs build``.

A generated MkDocs project of N Markdown pages is built three ways with the ``mkdocs``
that sits next to our CLI (so the plugin is importable):

* ``plain``: plugins ``search`` only (the baseline);
* ``disabled``: the plugin listed with ``enabled: false`` (cost of loading it);
* ``enabled-noop``: the plugin publishing, into a bucket that already holds exactly
  this build's output (nothing changed: the cost of checking, which the targets cap).

The nav lists only a few pages so that the build stays linear in N (MkDocs renders the
whole nav into every page).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PLUGIN_MODULE_PREFIX = "mkdocs_s3_crossaccount"
_FIND_PLUGIN = f"""
import importlib.metadata as m
for ep in m.entry_points(group="mkdocs.plugins"):
    if ep.value.startswith("{PLUGIN_MODULE_PREFIX}"):
        print(ep.name)
        break
"""


def find_plugin_name(python: Path) -> str | None:
    """Entry-point name of our MkDocs plugin as installed for ``python``, if any."""
    if not python.exists():
        return None
    proc = subprocess.run(
        [str(python), "-c", _FIND_PLUGIN],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    name = proc.stdout.strip()
    return name or None


@dataclass(frozen=True)
class Project:
    """A generated MkDocs project and its three configurations."""

    root: Path
    site_dir: Path
    configs: dict[str, Path]


VARIANTS = ("plain", "disabled", "enabled-noop")


def _page(i: int) -> str:
    para = (
        f"Page {i} explains how the docs publisher uploads a built site to a bucket in "
        "another account, compares checksums, and deletes stale objects safely.\n\n"
    )
    return (
        f"# Page {i}\n\n"
        + para * 6
        + "## Example\n\n```yaml\nplugins:\n  - search\n```\n\n"
        + "| key | value |\n|---|---|\n| a | b |\n"
    )


def make_project(root: Path, n_pages: int, plugin: str, bucket: str, role_arn: str, region: str) -> Project:
    """Write the project under ``root`` (kept if already generated for ``n_pages``)."""
    docs = root / "docs"
    marker = root / f".pages-{n_pages}"
    if not marker.exists():
        if docs.exists():
            shutil.rmtree(docs)
        (docs / "index.md").parent.mkdir(parents=True, exist_ok=True)
        (docs / "index.md").write_text("# Home\n\nBenchmark project.\n")
        per_section = 50
        for i in range(n_pages - 1):
            path = docs / f"section-{i // per_section:02d}" / f"page-{i:05d}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_page(i))
        marker.write_text("ok\n")
    nav = "nav:\n  - Home: index.md\n  - First: section-00/page-00000.md\n"
    base = (
        "site_name: Bench Docs\n"
        "site_url: https://docs.example.com/\n"
        "theme:\n  name: mkdocs\n"
        f"{nav}"
        "plugins:\n  - search\n"
    )
    configs: dict[str, Path] = {}
    for variant in VARIANTS:
        text = base
        if variant != "plain":
            enabled = "true" if variant == "enabled-noop" else "false"
            text += (
                f"  - {plugin}:\n"
                f"      enabled: {enabled}\n"
                f"      bucket: {bucket}\n"
                f"      role_arn: {role_arn}\n"
                f"      region: {region}\n"
            )
        path = root / f"mkdocs-{variant}.yml"
        path.write_text(text)
        configs[variant] = path
    return Project(root=root, site_dir=root / "site", configs=configs)


def build_argv(mkdocs: Path, project: Project, variant: str) -> list[str]:
    return [
        str(mkdocs),
        "build",
        "--config-file",
        str(project.configs[variant]),
        "--site-dir",
        str(project.site_dir),
    ]
