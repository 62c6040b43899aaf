"""The front door: README as a short page whose commands are the ones CI runs, and the docs site
built strictly (broken links fail), with the option reference generated from the code."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mkdocs_s3_crossaccount.config.settings import Settings

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = REPO / "docs"
PAGES = [
    "index.md",
    "getting-started.md",
    "install.md",
    "configuration.md",
    "command-line.md",
    "iam.md",
    "gitlab.md",
    "cloudfront.md",
    "s3-compatible.md",
    "reliability.md",
    "transfer.md",
    "benchmarks.md",
    "troubleshooting.md",
]
DEMO_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -e '.[demo]' && .venv/bin/mkdocs-s3-crossaccount demo"
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest -q"
SEED = re.compile(r"\bseed\b|changelog", re.IGNORECASE)

pytestmark = pytest.mark.e2e


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("DOCS_PUBLISH", None)
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("docs-site")
    proc = build(DOCS / "mkdocs.yml", site)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return site


def test_readme_is_a_short_front_door_with_the_commands_ci_runs() -> None:
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= 200
    first_screen = "\n".join(lines[:40])
    assert DEMO_COMMAND in first_screen and TEST_COMMAND in first_screen
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pip install --quiet -e '.[test]'" in ci and "\n.venv/bin/python -m pytest -q\n" in ci
    assert f"# README's test command: {TEST_COMMAND}" in ci
    assert not SEED.search(text)
    # No install command that cannot succeed: the package is on no index.
    assert not re.search(r"pip install mkdocs-s3-crossaccount\s*$", text, re.MULTILINE)
    for target in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (REPO / target).is_file(), target


def test_docs_sources_name_no_uninstallable_command_and_no_seed_wording() -> None:
    nav_pages = yaml.load((DOCS / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)["nav"]
    assert [next(iter(entry.values())) for entry in nav_pages] == PAGES
    for page in PAGES:
        text = (DOCS / "pages" / page).read_text(encoding="utf-8")
        assert not SEED.search(text), page
        assert not re.search(r"pip install mkdocs-s3-crossaccount\s*(#|$)", text, re.MULTILINE), page


def test_docs_site_builds_strictly_with_every_page(built: Path) -> None:
    for page in PAGES:
        html = built / ("index.html" if page == "index.md" else page.removesuffix(".md") + "/index.html")
        assert html.is_file(), page
        assert not SEED.search(re.sub(r"<[^>]+>", " ", html.read_text(encoding="utf-8"))), page
    benchmarks = (built / "benchmarks" / "index.html").read_text(encoding="utf-8")
    assert "script-cp" in benchmarks and "aws s3 sync" in benchmarks  # BENCHMARKS.md was included


def test_configuration_page_documents_every_option(built: Path) -> None:
    html = (built / "configuration" / "index.html").read_text(encoding="utf-8")
    assert "Option table not generated" not in html  # the schema generated it
    missing = [f.name for f in dataclasses.fields(Settings) if f.name not in html]
    assert not missing, f"options missing from the configuration reference: {missing}"


def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    (tmp_path / "BENCHMARKS.md").write_text("# Benchmarks\n\nnone\n", encoding="utf-8")
    page = docs / "pages" / "cloudfront.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nSee [nowhere](no-such-page.md).\n", encoding="utf-8")
    proc = build(docs / "mkdocs.yml", tmp_path / "site")
    assert proc.returncode != 0
    assert "no-such-page.md" in proc.stdout + proc.stderr


def test_release_job_builds_checks_and_publishes_to_the_package_registry() -> None:
    pipeline = yaml.safe_load((REPO / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    job = pipeline["release-package"]
    script = "\n".join(job["script"])
    assert script.index("python -m build") < script.index("twine check --strict") < script.index("twine upload")
    assert "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/pypi" in script
    assert 'SETUPTOOLS_SCM_PRETEND_VERSION="${CI_COMMIT_TAG#v}"' in script
    assert job["rules"] == [{"if": r"$CI_COMMIT_TAG =~ /^v\d+\.\d+\.\d+$/"}]
    assert (REPO / "docs" / "pages" / "install.md").read_text(encoding="utf-8").count("twine check --strict") == 1
