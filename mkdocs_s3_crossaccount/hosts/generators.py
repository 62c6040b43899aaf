"""What differs between the site generators that load the plugin (MkDocs, ProperDocs, Zensical).

The one place that names them; nothing here imports any of them.
"""

from __future__ import annotations

import os
import tempfile
from importlib import metadata

GENERATORS = ("mkdocs", "properdocs")
"""Distributions whose version is reported as the generator, in order of preference."""

HOST_LOGGERS = ("mkdocs", "properdocs")
"""Roots of the host's logger tree whose warnings make ``--strict`` abort the build."""

SERVE_DIR_PREFIXES = ("mkdocs_", "properdocs_")
"""Prefixes of the temporary folders ``serve`` builds into."""


def generator_version() -> str | None:
    """The installed mkdocs (else properdocs) version, e.g. ``1.6.1``; None when neither is installed."""
    for name in GENERATORS:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def looks_like_serve_dir(site_dir: str) -> bool:
    """`mkdocs serve --clean` reports command 'build' but builds into a fresh temp dir."""
    parent = os.path.dirname(os.path.abspath(site_dir))
    name = os.path.basename(os.path.abspath(site_dir))
    return os.path.samefile(parent, tempfile.gettempdir()) and name.startswith(SERVE_DIR_PREFIXES)
