"""The `tfnas` command (also `python -m tfnas` and the clone's `search.py`): one Hydra app.

`tfnas space=rnn strategy=evolution metric=hidden_cov` runs a search; `-m` sweeps (Hydra multirun).
`tfnas export RUN_DIR --rank 1 --out DIR` (a subcommand, dispatched before Hydra) writes a model folder.
"""
from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from tfnas.config import CONFIG_NAME, CONFIG_PATH, search_path_override
from tfnas.errors import TfnasError


@hydra.main(config_path=CONFIG_PATH, config_name=CONFIG_NAME, version_base="1.3")
def _search(cfg: DictConfig) -> float | None:
    from tfnas.app import run

    try:
        summary = run(cfg, Path(HydraConfig.get().runtime.output_dir))
    except TfnasError as err:
        print(f"tfnas: error: {err}", file=sys.stderr)
        sys.exit(2)
    best = summary.get("best")
    return None if best is None else best["score"]


SUBCOMMANDS = {"export": "tfnas.export:main"}


def main() -> None:
    """Run a subcommand (`tfnas export ...`), else the Hydra app with plug-in configs on its search path."""
    if len(sys.argv) > 1 and sys.argv[1] in SUBCOMMANDS:
        import importlib

        module, function = SUBCOMMANDS[sys.argv[1]].split(":")
        sys.exit(getattr(importlib.import_module(module), function)(sys.argv[2:]))
    sys.argv += search_path_override(sys.argv[1:])
    _search()
