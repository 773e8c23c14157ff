"""Entry point: `python search.py space=rnn strategy=random metric=hidden_cov search.budget=50`."""
from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from tfnas.app import run
from tfnas.errors import TfnasError


@hydra.main(config_path="conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    try:
        summary = run(cfg, Path(HydraConfig.get().runtime.output_dir))
    except TfnasError as err:
        print(f"tfnas: error: {err}", file=sys.stderr)
        sys.exit(2)
    best = summary.get("best")
    return None if best is None else best["score"]


if __name__ == "__main__":
    main()
