"""Trainings spent one at a time, each on the best untrained candidate under the predictor refitted on
those before it (train=benchmark / train=short with train.budget=K; with predictor=ensemble this is the
calibrated ensemble's loop, with predictor=score simply the K best by the metric).

Each finished training is in the stage's trained study (tfnas.store.trained) before the next starts, so
a run killed with kill -9 and started again reads them back, in order: none is lost or repeated.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from tfnas.candidates import rank_candidates
from tfnas.predictors.base import Training
from tfnas.store.trained import STATUS_ATTR


def spent_trainings(context, stage: str, target: str, higher_is_better: bool, known: set[str]) -> list[Training]:
    """The trainings an earlier run of this stage finished, in the order it spent them."""
    if context is None or context.trained is None:
        return []
    study = context.trained.study(stage, target, higher_is_better)
    done = []
    for trial in sorted(study.finished().values(), key=lambda t: t.number):
        key = trial.user_attrs.get("hash")
        if key in known:
            ok = trial.state.name == "COMPLETE" and trial.user_attrs.get(STATUS_ATTR, "ok") == "ok"
            done.append(Training(key, float(trial.value) if ok else None, higher_is_better))
    return done


def spend(space, entries: list[dict[str, Any]], context, budget: int, train_one: Callable[[dict], float | None],
          stage: str, target: str, higher_is_better: bool) -> list[dict[str, Any]]:
    """Spend `budget` trainings; returns the trained entries in training order (train_order, trained_result).

    Without records (a stage run on its own), the candidates are taken in `entries`' order."""
    by_hash = {e["hash"]: e for e in entries}
    done = spent_trainings(context, stage, target, higher_is_better, set(by_hash))
    if done:
        print(f"tfnas: {stage}: resuming with {len(done)} training(s) already spent", flush=True)
    records = list(getattr(context, "records", ()) or ())
    while len(done) < min(budget, len(entries)):
        taken = {t.hash for t in done}
        if records and context.predictor is not None:
            order, _ = rank_candidates(space, records, context.predictor, done)
            keys = [records[i].hash for i in order if records[i].hash in by_hash]
        else:
            keys = list(by_hash)
        key = next(k for k in keys if k not in taken)
        value = train_one(by_hash[key])
        done.append(Training(key, value if value is not None and math.isfinite(value) else None, higher_is_better))
    trained = []
    for order, training in enumerate(done, 1):
        entry = by_hash[training.hash]
        entry.update(train_order=order, trained_result=training.value,
                     train_status="ok" if training.value is not None else entry.get("train_status", "failed"))
        if entry["train_status"] == "not trained":
            entry["train_status"] = "failed"
        trained.append(entry)
    if records and context.predictor is not None:
        context.predictor.fit(records, done)
    return trained


def final_order(entries: list[dict[str, Any]], trained: list[dict[str, Any]], context, space,
                higher_is_better: bool) -> list[dict[str, Any]]:
    """Trained candidates best first, failed ones after, then the rest by the predictor refitted on every training."""
    ok = sorted((e for e in trained if e["train_status"] == "ok"), key=lambda e: e["trained_result"], reverse=higher_is_better)
    failed = [e for e in trained if e["train_status"] != "ok"]
    taken = {e["hash"] for e in trained}
    by_hash = {e["hash"]: e for e in entries}
    records = list(getattr(context, "records", ()) or ())
    if records and context.predictor is not None:
        order, _ = rank_candidates(space, records, context.predictor, [
            Training(e["hash"], e["trained_result"], higher_is_better) for e in trained])
        rest_keys = [records[i].hash for i in order if records[i].hash in by_hash and records[i].hash not in taken]
    else:
        rest_keys = [e["hash"] for e in entries if e["hash"] not in taken]
    rest = [{**by_hash[k], "train_status": "not trained"} for k in rest_keys]
    return ok + failed + rest
