"""Where the NAS-Bench-BERT space's shipped data lives (`data/`, see data/PROVENANCE.md): the benchmark's
seed files, WikiText-2 and the WordPiece tokenizer, read through importlib.resources."""
from __future__ import annotations

from pathlib import Path

from tfnas.data import shipped_path


def data_path(*parts: str) -> Path:
    """A file or folder under this space's `data/`, e.g. data_path("wikitext-2", "valid.txt")."""
    return shipped_path(__package__, "data", *parts)
