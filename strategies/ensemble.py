"""strategy=ensemble: score random candidates with a cheap metric suite, then spend train.budget
trainings where a calibrated ensemble of the metrics predicts best (see tfnas/ensemble.py).

Why random proposals: on NAS-Bench-NLP a search that climbs one proxy drifts towards cells the
proxy loves and that train badly (issue 13); uniform draws keep the scored set representative,
so the ensemble fitted on a few trainings generalises to the rest of it.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from tfnas.strategy import STRATEGIES
from tfnas.strategies.evolution import RegularizedEvolution
from tfnas.strategies.random_search import RandomSearch
from tfnas.ensemble import Training, calibrated_trainings, factor_weights, predicted_order, signed_ranks
from tfnas.errors import ConfigError
from tfnas.validate import integer, positive_int

TRAINING_ATTR = "ensemble_training_"


@STRATEGIES.register("ensemble")
class CalibratedEnsemble(RandomSearch):
    """Proposes like `random`; scores every candidate with `metrics[space]` in one shared probe;
    after the search, `spend_trainings` trains train.budget candidates chosen by a Bayesian rank
    ensemble (its posterior mean, or Thompson draws with exploration=thompson), refitted after
    every training. Trainings are stored in the search's study as they finish, so a resumed run
    neither loses nor repeats one."""

    name = "ensemble"
    needs_trainings = True

    def __init__(self, metrics: dict[str, list[str]] | None = None, guard: dict[str, list[str]] | None = None,
                 exploration: str = "greedy", proposals: str = "random", population_size: int = 20, sample_size: int = 5,
                 max_resample: int = 100, prior: str = "equal", calibrate_from: int = 2):
        super().__init__(max_resample)
        self.calibrate_from = integer(calibrate_from, "strategy.calibrate_from", 2,
                                      "an integer (trainings before the ensemble is first refitted)")
        if prior not in ("equal", "factor"):
            raise ConfigError("strategy.prior", f"must be equal (rank average) or factor (one-factor model of the metrics), got {prior!r}")
        self.prior = prior
        if proposals not in ("random", "evolution"):
            raise ConfigError("strategy.proposals", f"must be random or evolution, got {proposals!r}")
        self.proposals = proposals
        # proposals=evolution: regularized evolution on the search metric chooses what to score
        # (predictor-free; the trainings still follow the calibrated ensemble of every metric)
        self._evolution = RegularizedEvolution(population_size, sample_size) if proposals == "evolution" else None
        if not isinstance(metrics, dict) or not metrics:
            raise ConfigError("strategy.metrics", "needs a mapping from space name to a list of metric names")
        if exploration not in ("thompson", "greedy"):
            raise ConfigError("strategy.exploration", f"must be thompson or greedy, got {exploration!r}")
        self.metrics = {space: list(names) for space, names in metrics.items()}
        self.guard = {space: list(names or []) for space, names in (guard or {}).items()}
        self.exploration = exploration

    def bind(self, space, rng, study=None) -> None:
        super().bind(space, rng, study)
        if self._evolution is not None:
            self._evolution.bind(space, rng, study)

    def ask(self):
        if self._evolution is None:
            return super().ask()
        candidate = self._evolution.ask()
        candidate.number = self._asked
        self._asked += 1
        return candidate

    def tell(self, candidate, score: float, duplicate: bool = False) -> None:
        if self._evolution is not None:
            self._evolution.tell(candidate, score, duplicate)

    def observe(self, arch, score: float) -> None:
        super().observe(arch, score)
        if self._evolution is not None:
            self._evolution.observe(arch, score)

    @staticmethod
    def _build(names: list[str], field: str) -> list:
        from hydra.utils import instantiate

        from tfnas.config import group_options, load_group_config

        available = group_options("metric")
        for name in names:
            if name not in available:
                raise ConfigError(field, f"unknown metric config {name!r}; choose from {', '.join(available)}")
        return [instantiate(load_group_config("metric", name)) for name in names]

    def feature_metrics(self, space_name: str) -> list:
        names = self.metrics.get(space_name)
        if not names:
            raise ConfigError("strategy.metrics", f"no metric list for space {space_name!r}; add strategy.metrics.{space_name}=[...]")
        return self._build(names, "strategy.metrics")

    def guard_metrics(self, space_name: str) -> list:
        """Metrics that are undefined for degenerate cells; not ranking features."""
        return self._build(self.guard.get(space_name, []), "strategy.guard")

    def scoring_metrics(self, space) -> list:
        """The metrics (built from their metric configs) scored besides the search metric, in one shared probe."""
        return self.feature_metrics(space.name) + self.guard_metrics(space.name)

    @staticmethod
    def check_stage(stage) -> None:
        """Refuse, before anything is written, a train stage that cannot spend a training budget."""
        if not hasattr(stage, "target_of"):
            raise ConfigError("train", "strategy=ensemble spends trainings: use train=benchmark (tabular lookup or "
                              "space.benchmark.labels) or train=short, with train.budget=K")
        positive_int(getattr(stage, "trainings", None), "train.budget",
                     "the number of trainings strategy=ensemble spends, a positive integer (train.budget=10)")

    # -- after the search ------------------------------------------------------------------
    def feature_keys(self, space_name: str) -> list[tuple[str, bool]]:
        return [(metric.key, bool(metric.higher_is_better)) for metric in self.feature_metrics(space_name)]

    def spend_trainings(self, space, records, stage, run_dir, device, seed: int, tracker, store, top_k: int) -> list[dict[str, Any]]:
        """Train stage.budget of the scored candidates, chosen by the calibrated ensemble; return the shortlist."""
        keys = self.feature_keys(space.name)
        values = np.array([[r.metrics.get(k, math.nan) for k, _ in keys] for r in records], dtype=float)
        guards = [m.key for m in self.guard_metrics(space.name)]
        guard_values = np.array([[r.metrics.get(k, math.nan) for k in guards] for r in records], dtype=float).reshape(len(records), len(guards))
        # degenerate: any metric undefined (NaN/inf at initialisation), or a guard metric undefined
        undefined = ~(np.isfinite(values).all(axis=1) & np.isfinite(guard_values).all(axis=1))
        features = signed_ranks(values, [hib for _, hib in keys])
        hashes = [r.hash for r in records]
        position = {h: i for i, h in enumerate(hashes)}
        bench = space.benchmark()
        entries = [self._entry(space, bench, r) for r in records]
        higher = stage.target_higher_is_better(space)

        done = []
        for order, attr in sorted(self._stored(store).items()):
            if attr["hash"] in position:
                done.append(Training(position[attr["hash"]], attr["hash"], attr["value"]))
        if done:
            print(f"tfnas: ensemble resumes with {len(done)} training(s) already spent", flush=True)

        def train(i: int) -> float | None:
            return stage.target_of(space, entries[i], run_dir, device, seed, tracker)

        def persist(training: Training, order: int) -> None:
            if store is not None:
                store.study.set_user_attr(f"{TRAINING_ATTR}{order:05d}", {"hash": training.hash, "value": training.value})

        prior_mean = None
        if self.prior == "factor":  # fitted on the healthy candidates: degenerate cells distort the ranks' agreement
            prior_mean = factor_weights(features[~undefined] if (~undefined).sum() >= 3 else features)
        trainings, model = calibrated_trainings(
            features, hashes, ~undefined, stage.trainings, train, higher, np.random.default_rng([int(seed), 13]),
            done=done, on_training=persist, greedy=self.exploration == "greedy", prior_mean=prior_mean,
            calibrate_from=self.calibrate_from,
        )
        if undefined.any():
            print(f"tfnas: ensemble guard: {int(undefined.sum())} of {len(records)} candidates degenerate at initialisation "
                  f"(kept out of the trainings and the shortlist)", flush=True)
        print(f"tfnas: ensemble spent {len(trainings)} training(s); weights "
              + ", ".join(f"{k}={w:+.2f}" for (k, _), w in zip(keys, model.mean)), flush=True)
        trained = []
        for order, t in enumerate(trainings):
            entry = {**entries[t.index], "train_order": order + 1, "trained_result": t.value,
                     "train_status": "ok" if t.value is not None else "failed"}
            trained.append(entry)
        ok = sorted((e for e in trained if e["train_status"] == "ok"), key=lambda e: e["trained_result"], reverse=higher)
        failed = [e for e in trained if e["train_status"] != "ok"]
        taken = {t.index for t in trainings}
        rest = [{**entries[i], "train_status": "not trained"} for i in predicted_order(features, model, ~undefined) if i not in taken]
        final = (ok + failed + rest)[: max(top_k, len(trained))]
        for rank, entry in enumerate(final, 1):
            entry["rank"] = rank
        from tfnas.training.table import write_shortlist

        write_shortlist(run_dir, final)
        return final

    @staticmethod
    def _stored(store) -> dict[int, dict]:
        if store is None:
            return {}
        attrs = store.study.user_attrs
        return {int(k[len(TRAINING_ATTR):]): v for k, v in attrs.items() if k.startswith(TRAINING_ATTR)}

    @staticmethod
    def _entry(space, bench, record) -> dict[str, Any]:
        arch = space.from_json(record.arch)
        entry = {"hash": record.hash, "score": record.score, "undefined": record.undefined, "arch": record.arch, **space.describe(arch)}
        trained = bench.query(arch) if bench is not None else None
        if trained is not None:
            entry["benchmark"] = trained
        return entry
