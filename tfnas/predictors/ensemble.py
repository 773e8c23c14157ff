"""predictor=ensemble: the calibrated rank ensemble of tfnas/ensemble.py as a predictor.

Each candidate is described by its metrics' ranks among the scored candidates (`signed_ranks`);
the prediction is a Bayesian linear model of the trained results on those ranks whose prior mean is
the equal-weight rank average (or the label-free one-factor weights, `prior=factor`) and whose
precisions are set by evidence maximisation, refitted whenever it is given trainings
(NAS-Bench-Suite-Zero, Krishnakumar et al., NeurIPS 2022 D&B: proxies as features of a predictor;
RoBoT, He et al., ICLR 2024: weights of proxy rankings learned from a few queried architectures).
A training stage with a training budget (`train=benchmark train.budget=K`) trains one candidate,
refits, and asks again: the sequential loop of tfnas/training/sequential.py.

Its guard: a candidate with any of its metrics undefined, or a `guard` metric undefined (rnn:
`hidden_health`, hidden states that explode, collapse or ignore their input at initialisation), is
unhealthy: never trained while a healthy one is left.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from tfnas.ensemble import MIN_TRAININGS, BayesianRanker, factor_weights, prior_weights, signed_ranks
from tfnas.errors import ConfigError
from tfnas.predictors.base import PREDICTORS, Predictor, Training
from tfnas.validate import integer


class RankEnsemble:
    """The model over explicit metric keys: `features` = [(key, higher_is_better)], `guards` = keys that must be finite."""

    def __init__(self, features: Sequence[tuple[str, bool]], guards: Sequence[str] = (), prior: str = "equal",
                 calibrate_from: int = MIN_TRAININGS, greedy: bool = True, seed: int = 0):
        self.features, self.guards = list(features), list(guards)
        self.prior, self.calibrate_from, self.greedy = prior, calibrate_from, greedy
        self.rng = np.random.default_rng([int(seed), 13])
        self.model: BayesianRanker | None = None
        self.fitted = 0

    def values(self, records) -> np.ndarray:
        return np.array([[r.metrics.get(k, math.nan) for k, _ in self.features] for r in records], dtype=float)

    def healthy(self, records) -> np.ndarray:
        values = self.values(records)
        guard = np.array([[r.metrics.get(k, math.nan) for k in self.guards] for r in records], dtype=float)
        guard = guard.reshape(len(records), len(self.guards))
        return np.isfinite(values).all(axis=1) & np.isfinite(guard).all(axis=1)

    def fit(self, records, trainings: Sequence[Training] = ()) -> "RankEnsemble":
        ranks = signed_ranks(self.values(records), [hib for _, hib in self.features])
        healthy = self.healthy(records)
        w0 = None
        if self.prior == "factor":  # fitted on the healthy candidates: degenerate cells distort the ranks' agreement
            w0 = factor_weights(ranks[healthy] if healthy.sum() >= 3 else ranks)
        self.model = BayesianRanker(prior_weights(len(self.features)) if w0 is None else w0)
        position = {r.hash: i for i, r in enumerate(records)}
        ok = [t for t in trainings if t.hash in position and t.value is not None and math.isfinite(t.value)]
        self.fitted = len(trainings)
        if len(ok) >= max(self.calibrate_from, MIN_TRAININGS):
            signs = np.array([1.0 if t.higher_is_better else -1.0 for t in ok])
            self.model.fit(ranks[[position[t.hash] for t in ok]], signs * np.array([t.value for t in ok]))
        self._ranks = (records, ranks)  # query() on the same records (rank_candidates: fit, then query) reuses them
        return self

    def query(self, records) -> np.ndarray:
        if self.model is None:
            self.fit(records)
        fitted_on, ranks = getattr(self, "_ranks", (None, None))
        if fitted_on is not records:
            ranks = signed_ranks(self.values(records), [hib for _, hib in self.features])
        # the first training follows the prior mean; later ones the posterior mean (greedy) or a draw (Thompson)
        weights = self.model.mean if self.greedy or not self.fitted else self.model.sample(self.rng)
        return ranks @ weights

    def describe(self) -> str:
        if self.model is None:
            return ""
        return "weights " + ", ".join(f"{k}={w:+.2f}" for (k, _), w in zip(self.features, self.model.mean))


@PREDICTORS.register("ensemble")
class EnsemblePredictor(Predictor):
    """`metrics` and `guard`: per space, lists of metric config names (conf/metric/*.yaml)."""

    name = "ensemble"
    unhealthy = "a metric of the ensemble or its guard is undefined"

    def __init__(self, metrics: dict[str, list[str]] | None = None, guard: dict[str, list[str]] | None = None,
                 exploration: str = "greedy", prior: str = "equal", calibrate_from: int = 2, structural_guard: bool = True):
        self.calibrate_from = integer(calibrate_from, "predictor.calibrate_from", 2,
                                      "an integer (trainings before the ensemble is first refitted)")
        if prior not in ("equal", "factor"):
            raise ConfigError("predictor.prior", f"must be equal (rank average) or factor (one-factor model of the metrics), got {prior!r}")
        if exploration not in ("thompson", "greedy"):
            raise ConfigError("predictor.exploration", f"must be thompson or greedy, got {exploration!r}")
        if not isinstance(metrics, dict) or not metrics:
            raise ConfigError("predictor.metrics", "needs a mapping from space name to a list of metric names")
        self.metrics = {space: list(names) for space, names in metrics.items()}
        self.guard = {space: list(names or []) for space, names in (guard or {}).items()}
        self.prior, self.exploration = prior, exploration
        self.guarded = bool(structural_guard)  # false: the space's degenerate() guard is not applied
        self.model: RankEnsemble | None = None

    @classmethod
    def over(cls, features: list[tuple[str, bool]], guards: list[str] = (), seed: int = 0, **options) -> "EnsemblePredictor":
        """A predictor over explicit metric keys ([(key, higher_is_better)]), already bound: for records whose metric
        values come from elsewhere than this space's metric configs (a plug-in's, a test's)."""
        self = cls(metrics={"any": [key for key, _ in features]}, **options)
        self.seed = seed
        self.model = RankEnsemble(features, list(guards), self.prior, self.calibrate_from, self.exploration == "greedy", seed)
        return self

    def _build(self, names: list[str], field: str) -> list:
        """The metrics of these configs (built once per predictor: a comparison rebinds it for every seed)."""
        from hydra.utils import instantiate

        from tfnas.config import group_options, load_group_config

        built = self.__dict__.setdefault("_built", {})
        key = (tuple(names), field)
        if key not in built:
            available = group_options("metric")
            for name in names:
                if name not in available:
                    raise ConfigError(field, f"unknown metric config {name!r}; choose from {', '.join(available)}")
            built[key] = [instantiate(load_group_config("metric", name)) for name in names]
        return built[key]

    def feature_metrics(self, space) -> list:
        names = self.metrics.get(space.name)
        if not names:
            raise ConfigError("predictor.metrics", f"no metric list for space {space.name!r}; add predictor.metrics.{space.name}=[...]")
        return self._build(names, "predictor.metrics")

    def guard_metrics(self, space) -> list:
        return self._build(self.guard.get(space.name, []), "predictor.guard")

    def scoring_metrics(self, space) -> list:
        return self.feature_metrics(space) + self.guard_metrics(space)

    def bind(self, space, metric, seed: int) -> None:
        super().bind(space, metric, seed)
        features = [(m.key, bool(m.higher_is_better)) for m in self.feature_metrics(space)]
        self.model = RankEnsemble(features, [m.key for m in self.guard_metrics(space)], self.prior, self.calibrate_from,
                                  greedy=self.exploration == "greedy", seed=seed)

    def fit(self, records, trainings=()) -> "EnsemblePredictor":
        self.model.fit(records, trainings)
        return self

    def query(self, records) -> np.ndarray:
        return self.model.query(records)

    def healthy(self, records) -> np.ndarray:
        return self.model.healthy(records)

    def describe(self) -> str:
        return self.model.describe()
