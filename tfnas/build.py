"""Build a search's parts from its config: space, metrics, strategy, store and scorer.

The app, every worker process and the experiments (strategy comparison) build searches here,
so they are the same search. Everything that can be refused is checked before the store (the
only part that writes) is opened.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from tfnas.errors import ConfigError
from tfnas.labels import with_benchmark_options
from tfnas.metrics.base import METRICS
from tfnas.metrics.scoring import Scorer
from tfnas.pool import benchmark_pool
from tfnas.store import EvaluationStore, storage_url
from tfnas.trial_params import hide_readable

LIMIT_KEYS = frozenset({"max_corpus_mb"})  # space options that bound resources and change no score


def resolve_device(name: str) -> torch.device:
    """cpu, cuda, cuda:N, or auto (cuda when available)."""
    name = str(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError("device", f"unknown device {name!r}; use cpu, cuda, cuda:N or auto") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", "CUDA was requested but is not available on this machine; use device=cpu or device=auto")
    return device



def device_option(text: str, option: str = "--device") -> str:
    """`resolve_device` for a command's flag: its error names the flag (`--device cuda:7 ...`), not `device=`."""
    try:
        return str(resolve_device(text))
    except ConfigError as err:
        raise ConfigError(option, str(err).partition(": ")[2].replace("device=", f"{option} ")) from None

def build(node: DictConfig, field: str) -> Any:
    """Instantiate a `_target_` config group, turning Hydra's errors into one that names the group.

    A space's `benchmark` section (user labels) is not a constructor argument: it is applied to
    the built space (tfnas/labels.py)."""
    if node is None or "_target_" not in node:
        raise ConfigError(field, f"missing config group {field!r} with a _target_ (choose one with {field}=NAME)")
    if field == "space" and "compare" in node:  # tfnas compare's per-space choices, not a constructor argument
        node = OmegaConf.create({k: v for k, v in OmegaConf.to_container(node, resolve=True).items() if k != "compare"})
    if field == "space" and "benchmark" in node:
        options = OmegaConf.to_container(node.benchmark, resolve=True)
        plain = OmegaConf.create({k: v for k, v in OmegaConf.to_container(node, resolve=True).items() if k != "benchmark"})
        return with_benchmark_options(build(plain, field), options)
    try:
        return instantiate(node, _convert_="all")
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, ConfigError):
            raise cause from None
        raise ConfigError(field, f"could not build {node._target_}: {cause or err}") from None


def heartbeat_settings(cfg: DictConfig) -> dict[str, float]:
    """search.heartbeat_interval_s and search.grace_period_s, checked (a grace period must outlast a beat)."""
    interval = cfg.search.get("heartbeat_interval_s", 10)
    grace = cfg.search.get("grace_period_s", 60)
    for field, value in (("search.heartbeat_interval_s", interval), ("search.grace_period_s", grace)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(field, f"must be a positive number of seconds, got {value!r}")
    if grace <= interval:
        raise ConfigError("search.grace_period_s", f"must be longer than search.heartbeat_interval_s ({interval}), got {grace}; e.g. {3 * interval}")
    return {"heartbeat_interval_s": float(interval), "grace_period_s": float(grace)}


@dataclass
class SearchParts:
    """What one search process needs: built from the config the same way in every worker."""

    space: Any
    metric: Any
    strategy: Any
    scorer: Scorer
    store: EvaluationStore
    objectives: list[tuple[str, bool]]
    predictor: Any = None  # orders the scored candidates for the shortlist and the training stage (tfnas.predictors)


def build_space(cfg: DictConfig):
    """The configured space, restricted to its benchmark's labelled architectures when search.pool=benchmark."""
    space = build(cfg.space, "space")
    pool = cfg.search.get("pool", "all")
    if pool == "benchmark":
        return benchmark_pool(space)
    if pool != "all":
        raise ConfigError("search.pool", f"must be all or benchmark, got {pool!r}")
    return space


def build_parts(cfg: DictConfig, run_dir: Path | None, device: torch.device, worker: int = 0, storage: str | None = None,
                space=None, scorer_cls=Scorer, stage=None) -> SearchParts:
    """Space, metric(s), strategy bound to the search's study, scorer. `storage` overrides search.storage;
    `space` reuses a space already built (and pool-restricted) from `cfg`; `scorer_cls` replaces the Scorer
    (tfnas.experiments.compare: cached metric values); `stage`, the training stage: the strategy is checked
    against it and it checks its data (a user's corpus can be short) before the store writes anything."""
    space = space if space is not None else build_space(cfg)
    metric = build(cfg.metric, "metric")
    metric.check_space(space)
    strategy = build(cfg.strategy, "strategy")
    if stage is not None:
        strategy.check_stage(stage)
    strategy.check_space(space)
    predictor = build_predictor(cfg)
    metrics, objectives = [metric], [(metric.key, metric.higher_is_better)]
    for extra in predictor.scoring_metrics(space):  # scored in the same probe, not objectives (predictor=ensemble)
        extra.check_space(space)
        if extra.key not in {m.key for m in metrics}:
            metrics.append(extra)
    for name, direction in strategy.extra_objectives:
        extra = METRICS.get(name)()
        extra.check_space(space)
        if extra.key != metric.key:
            metrics.append(extra)
        objectives.append((extra.key, direction == "maximize"))
    scorer = scorer_cls(space, metrics, device=device, seed=cfg.seed)  # checks every need before the store writes
    if stage is not None:
        stage.check(space)
    space_config = OmegaConf.to_container(cfg.space, resolve=True)
    fingerprint = {  # what the scores depend on (a resource limit such as space.max_corpus_mb does not)
        "space": {k: v for k, v in space_config.items() if k not in LIMIT_KEYS},
        "metric": OmegaConf.to_container(cfg.metric, resolve=True),
        "seed": cfg.seed,
        "pool": cfg.search.get("pool", "all"),
    }
    if run_dir is not None:
        Path(run_dir).mkdir(parents=True, exist_ok=True)  # every check has passed: the first write
    store = EvaluationStore(
        storage_url(storage if storage is not None else cfg.search.get("storage"), run_dir),
        cfg.search.get("study_name", "tfnas"),
        ["maximize" if hib else "minimize" for _, hib in objectives],
        metric.key,
        sampler=hide_readable(strategy.sampler(int(cfg.seed) + worker)),
        fingerprint=fingerprint,
        **heartbeat_settings(cfg),
    )
    store.set_metric_names([key for key, _ in objectives])
    rng = np.random.default_rng(cfg.seed if worker == 0 else [cfg.seed, worker])
    strategy.bind(space, rng, store.study)
    predictor.bind(space, metric, int(cfg.seed))
    return SearchParts(space, metric, strategy, scorer, store, objectives, predictor)


def build_predictor(cfg: DictConfig):
    """The configured predictor (predictor=score when the config has no predictor group)."""
    if cfg.get("predictor") is None:
        from tfnas.predictors.score import ScorePredictor

        return ScorePredictor()
    return build(cfg.predictor, "predictor")
