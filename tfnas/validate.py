"""Checks of single config values, each raising a ConfigError that names the field.

YAML and Hydra overrides turn `true` into a bool, which Python also accepts as the integer 1;
`search.budget=true` must not quietly mean a budget of one, so every integer check refuses bools.
"""
from __future__ import annotations

import math
from typing import Any

from tfnas.errors import ConfigError


def integer(value: Any, field: str, minimum: int | None = None, what: str = "an integer") -> int:
    """`value` as an int (bools and non-integral numbers refused), at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(field, f"must be {what}, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ConfigError(field, f"must be {what} >= {minimum}, got {value}")
    return value


def positive_int(value: Any, field: str, what: str = "a positive integer") -> int:
    """An int >= 1; `what` may say what the number counts ("a positive integer (processes ...)")."""
    integer(value, field, None, what)  # the type check; the bound's message names no ">= 1"
    if value < 1:
        raise ConfigError(field, f"must be {what}, got {value}")
    return value


def boolean(value: Any, field: str) -> bool:
    """true/false only (not 0/1 or strings)."""
    if not isinstance(value, bool):
        raise ConfigError(field, f"must be true or false, got {value!r}")
    return value


def optional_boolean(value: Any, field: str) -> bool | None:
    return None if value is None else boolean(value, field)


def fraction(value: Any, field: str) -> float:
    """A probability in [0, 1) (dropout rates)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 <= value < 1) or not math.isfinite(value):
        raise ConfigError(field, f"must be a number in [0, 1), got {value!r}")
    return float(value)


def optional_positive_number(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        raise ConfigError(field, f"must be a positive number of seconds or null, got {value!r}")
    return float(value)


MAX_SEED = 2**32  # numpy's and Optuna's samplers take seeds below 2**32


def seed(value: Any, field: str = "seed") -> int:
    """A random seed: an int with 0 <= seed < 2**32 (every generator a search seeds accepts it)."""
    integer(value, field, 0, "a non-negative integer (the random seed)")
    if value >= MAX_SEED:
        raise ConfigError(field, f"must be below 2**32 = {MAX_SEED:,} (the samplers' limit), got {value}")
    return value


def run_values(cfg) -> None:
    """Every run-wide value of the search config that no component checks itself."""
    from omegaconf import OmegaConf

    for key in sorted(OmegaConf.missing_keys(cfg)):  # `???` in a config: strategy=pruned needs strategy.rule
        raise ConfigError(key, f"has no value; set it on the command line ({key}=...)")
    seed(cfg.get("seed"))
    search = cfg.search
    positive_int(search.get("top_k", 10), "search.top_k", "a positive integer (architectures kept in best.json)")
    positive_int(search.get("eval_batch", 1), "search.eval_batch", "a positive integer (architectures asked, claimed and scored together)")
    integer(search.get("worker", 0), "search.worker", 0, "a non-negative integer (this machine's index among those sharing a study)")
    optional_boolean(search.get("progress"), "search.progress")
    boolean(search.get("overwrite", False), "search.overwrite")
    boolean(search.get("report", True), "search.report")
    name = search.get("study_name", "tfnas")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("search.study_name", f"must be a non-empty name, got {name!r}")
