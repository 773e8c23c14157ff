"""Locate files shipped inside the package; nothing is ever downloaded."""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Path of a shipped data file, e.g. resource_path("ptb", "test.txt")."""
    path = Path(str(resources.files("tfnas.resources").joinpath(*parts)))
    if not path.exists():
        raise FileNotFoundError(f"shipped data file {'/'.join(parts)} is missing from the tfnas package at {path}")
    return path
