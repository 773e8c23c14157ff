"""What every comparison shares: the labelled pool of a space, cached metric values, recorded learning curves.

Searches are built with the app's own builder (`tfnas.build.build_parts`, composed from the same Hydra
configs as `search.py`, through `tfnas.config.compose`, so it runs from an installed wheel) in
benchmark mode, with a scorer that looks up cached metric values of the pool: the tables the space's
config names (`space.compare.metric_tables`, package data of the space, read through
`importlib.resources`), then values computed once and cached under the cache directory (default
`.cache/compare` in the working directory) for architectures the tables lack.
"""
from __future__ import annotations

import copy
import csv
import json
import math
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from omegaconf import DictConfig, OmegaConf

from tfnas.build import build
from tfnas.config import compose
from tfnas.errors import ConfigError
from tfnas.experiments.pool_scoring import EXTRA_COLUMNS
from tfnas.labels import known_architectures
from tfnas.metrics.scoring import Evaluation, Scorer
from tfnas.pool import benchmark_pool

DEFAULT_CACHE = Path(".cache") / "compare"


def compose_config(overrides: Sequence[str]) -> DictConfig:
    return compose(list(overrides))


def space_choices(cfg: DictConfig) -> dict[str, Any]:
    """The space config's `compare` section (full_steps, metric_tables, recommended); {} if it has none."""
    section = cfg.space.get("compare")
    return OmegaConf.to_container(section, resolve=True) if section is not None else {}


def _shipped(space, path: str):
    """A data file of the package that defines `space` (path relative to it), or None when it ships none."""
    resource = files(type(space).__module__.rsplit(".", 1)[0]).joinpath(*Path(path).parts)
    return resource if resource.is_file() else None


def metric_tables(space, choices: dict[str, Any]) -> list[tuple[Any, str]]:
    """The space's shipped metric tables as (resource, id column), from the package that defines the space."""
    found = [(_shipped(space, path), id_column) for path, id_column in choices.get("metric_tables", [])]
    return [(resource, id_column) for resource, id_column in found if resource is not None]


def shipped_curves(space, choices: dict[str, Any]) -> list[Path]:
    """The learning curves the space's package ships for the compute axis (`compare.training_curves`)."""
    found = [_shipped(space, path) for path in choices.get("training_curves", [])]
    return [Path(str(resource)) for resource in found if resource is not None]


class MetricCache:
    """hash -> {metric key: value} for a space's architectures: the shipped tables, then computed once and cached."""

    def __init__(self, space, cache_dir: Path, tables: Sequence[tuple[Any, str]] = ()):
        self.space = space
        self.values: dict[str, dict[str, float]] = {}
        known = known_architectures(space) if tables else {}
        for resource, id_column in tables:
            with resource.open("r", encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    arch = known.get(str(row[id_column]))
                    if arch is None:
                        continue
                    stored = self.values.setdefault(space.hash(arch), {})
                    for k, v in row.items():
                        if k != id_column and k not in EXTRA_COLUMNS and k not in stored and _is_number(v):
                            stored[k] = float(v)
        self.path = Path(cache_dir) / f"{space.name}_computed.json"
        if self.path.exists():
            for key, vals in json.loads(self.path.read_text()).items():
                known_values = self.values.setdefault(key, {})
                known_values.update({k: v for k, v in vals.items() if k not in known_values})  # the tables win

    def ensure(self, archs: list, metrics: list) -> None:
        """Compute (once, on the CPU, at the space's settings) whatever the tables lack for these architectures."""
        lacking = lambda a, m: m.key not in self.values.get(self.space.hash(a), {})  # noqa: E731
        metrics = [m for m in metrics if any(lacking(a, m) for a in archs)]
        missing = [a for a in archs if any(lacking(a, m) for m in metrics)]
        if not missing:
            return
        print(f"  computing {[m.key for m in metrics]} for {len(missing)} architecture(s) missing from the tables", flush=True)
        scorer = Scorer(self.space, metrics, seed=0)
        for arch in missing:
            self.values.setdefault(self.space.hash(arch), {}).update(scorer(arch).scores)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.values))

    def scorer_cls(self):
        cache = self

        class CachedScorer:
            """The Scorer's interface over cached values (undefined values flagged as the real Scorer does)."""

            def __init__(self, space, metrics, device="cpu", seed=0):
                self.space, self.metrics = space, list(metrics)

            @property
            def keys(self):
                return [m.key for m in self.metrics]

            def __call__(self, arch) -> Evaluation:
                stored = cache.values[self.space.hash(arch)]
                scores, undefined = {}, []
                for m in self.metrics:
                    value = stored.get(m.key, math.nan)
                    if not math.isfinite(value):
                        undefined.append(m.key)
                        value = m.worst
                    scores[m.key] = value
                return Evaluation(scores, undefined, 0.0)

        return CachedScorer


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


@dataclass
class SpaceSetup:
    name: str
    base: list[str]  # Hydra overrides shared by every search of this space
    space: Any
    pool: Any
    truth: dict[str, float]
    higher_is_better: bool
    cache: MetricCache
    choices: dict[str, Any]
    labels: str | None = None  # the user's labels file (--labels), None for the benchmark's own targets
    curves: Any = None  # the equal-cost comparison's halving replay (compare.py)

    def top5_threshold(self) -> float:
        """The target of the pool's ceil(5 %)-th best architecture: a pick at least this good is in its best 5 %."""
        values = sorted(self.truth.values(), reverse=self.higher_is_better)
        return values[max(1, math.ceil(0.05 * len(values))) - 1]

    def in_top5(self, value: float) -> bool:
        threshold = self.top5_threshold()
        return value >= threshold if self.higher_is_better else value <= threshold


def setup_space(name: str, labels: str | None, higher_is_better: bool, cache_dir: Path | None, extra: Sequence[str] = (),
                subset: tuple[int, int] | None = None) -> SpaceSetup:
    """The space and its labelled pool; `subset=(i, n)`: only the i-th of n random parts of the pool (cross-validation)."""
    base = [f"space={name}", "search.pool=benchmark", "search.storage=memory", "search.progress=false"]
    if labels:
        base += [f"space.benchmark.labels={Path(labels).resolve()}", f"space.benchmark.higher_is_better={str(higher_is_better).lower()}"]
    cfg = compose_config(base)
    base += list(extra)  # strategy or metric settings: applied to every search, not to the space
    space = build(cfg.space, "space")
    pool = benchmark_pool(space)
    if subset is not None:
        part = np.random.default_rng(2024).permutation(len(pool)) % subset[1] == subset[0]
        keep = {pool.hashes[i] for i in np.flatnonzero(part)}
        pool = pool.restrict(lambda arch: space.hash(arch) in keep)
    bench = space.benchmark()
    truth = {pool.hashes[i]: float(bench.query_id(pool.ids[i])[bench.target]) for i in range(len(pool))}
    inner = space.inner if hasattr(space, "inner") else space
    choices = space_choices(cfg)
    cache = MetricCache(inner, Path(cache_dir) if cache_dir else DEFAULT_CACHE, metric_tables(inner, choices))
    return SpaceSetup(name, base, space, pool, truth, bench.higher_is_better, cache, choices, labels=labels)


def fresh_pool(pool):
    """A copy of the pool wrapper with no member handed out yet (each search starts clean)."""
    clone = copy.copy(pool)
    clone._used = set()
    clone._tie_rng = np.random.default_rng(0)
    return clone


def quartiles(values) -> dict[str, float]:
    q1, med, q3 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3)}


def read_curves(paths: Sequence[Path], setup: SpaceSetup, field: str = "--training-curves") -> tuple[dict[str, dict[int, float]], str]:
    """validate_training.csv-shaped files (id, loss_<steps>, status_<steps>, ...; any tool's) as {pool hash: {steps: loss}},
    an id read through the pool's ids (the labels' model_ids) or else the space's benchmark; the first file wins a cell
    two files hold. Refuses, naming the file, files recorded with different training seeds or options."""
    from tfnas.experiments.training_validation import WORST, read_curves_csv, recorded_settings

    paths = [Path(p) for p in paths]
    settings = [{k: recorded_settings(p).get(k) for k in ("seed", "options", "model")} for p in paths]
    for path, setting in zip(paths[1:], settings[1:]):
        if setting != settings[0]:
            raise ConfigError(field, f"{path} was recorded with {setting}, {paths[0]} with {settings[0]}; "
                              "pool only curves trained with the same seed and training flags")
    by_id = dict(zip(map(str, setup.pool.ids), setup.pool.hashes))
    known = known_architectures(setup.cache.space)
    losses: dict[str, dict[int, float]] = {}
    for path in paths:
        for cell, curve in read_curves_csv(path, field=field, benchmark=False).items():
            key = by_id.get(cell) or (setup.cache.space.hash(known[cell]) if cell in known else None)
            if key is not None and key in setup.truth:
                losses.setdefault(key, {int(s): (math.inf if v == WORST else float(v)) for s, v in curve.items()})
    notes = "; ".join(f"{p.parent.name}/{p.name}" for p in paths)
    return losses, f"{len(losses)} of {len(setup.truth)} pool architectures have curves ({notes})"
