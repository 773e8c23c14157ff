"""The `tfnas` command (also `python -m tfnas` and the clone's `search.py`): one Hydra app.

`tfnas space=rnn strategy=evolution metric=hidden_cov` runs a search; `-m` sweeps (Hydra multirun).
"""
from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from tfnas.config import CONFIG_NAME, CONFIG_PATH, search_path_override
from tfnas.errors import TfnasError
from tfnas.help import register as register_help

register_help()  # ${tfnas_help:...} in conf/hydra/help/tfnas.yaml


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


def main() -> None:
    """Run the Hydra app with plug-in configs on its search path."""
    sys.argv += search_path_override(sys.argv[1:])
    _search()
