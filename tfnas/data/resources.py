"""Locate files shipped inside the package; nothing is ever downloaded.

Data lives next to the code that reads it (a space's under `search_spaces/<space>/data/`), so the core
names no data of its own: a package passes its own name (`__package__`).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped_path(package: str, *parts: str) -> Path:
    """Path of a data file shipped in `package` (a dotted package name, `__package__` for its own), e.g. its "data", "ptb"."""
    path = Path(str(resources.files(package).joinpath(*parts)))
    if not path.exists():
        raise FileNotFoundError(f"shipped data file {'/'.join(parts)} is missing from {package} at {path}")
    return path
