"""Run the search app in this process, as `python search.py OVERRIDES` would (Hydra's compose API)."""
from __future__ import annotations

from pathlib import Path

from tfnas.app import run
from tfnas.config import compose

# tiny models, no progress bar, no end-of-run report (plots cost seconds; tests about the report pass search.report=true)
TINY = ["space.model.emsize=16", "space.model.nhid=24", "space.batch_size=8", "space.seq_len=12", "search.progress=false",
        "search.report=false"]


def config(*overrides: str):
    """The composed config for tiny RNN models plus `overrides`."""
    return compose([*TINY, *overrides])


def search(run_dir: Path, *overrides: str) -> dict:
    """Run a search into `run_dir` and return its summary."""
    return run(config(*overrides), Path(run_dir))
