"""The scored candidates in the order the shortlist and the training stages take them: predictor, then guard.

The predictor (tfnas.predictors) scores every candidate; the guard sets some aside: those the space
declares degenerate (`SearchSpace.degenerate`, e.g. an RNN cell whose output never sees the current
token) and those the predictor itself finds unhealthy (`Predictor.healthy`, e.g. the ensemble's
`hidden_health`). Set-aside candidates come after every healthy one, so they are trained or shortlisted
only when nothing healthy is left; the summary counts them.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

import numpy as np


def entry_of(space, bench, record) -> dict[str, Any]:
    """A best.json entry for a scored record, with the benchmark's trained result where it has one."""
    arch = space.from_json(record.arch)
    entry = {"hash": record.hash, "score": record.score, "undefined": record.undefined, "arch": record.arch, **space.describe(arch)}
    trained = bench.query(arch) if bench is not None else None
    if trained is not None:
        entry["benchmark"] = trained
    return entry


def guard_reasons(space, records: Sequence, predictor) -> list[str | None]:
    """Per record: why the guard sets it aside (the space's reason first), or None."""
    healthy = predictor.healthy(records)
    reasons = []
    for record, ok in zip(records, healthy):
        reason = space.degenerate(space.from_json(record.arch)) if predictor.guarded else None
        if reason is None and not ok:
            reason = predictor.unhealthy
        reasons.append(reason)
    return reasons


def rank_candidates(space, records: Sequence, predictor, trainings=()) -> tuple[list[int], list[str | None]]:
    """Indices of `records` best first (healthy ones first, then by the predictor's score, then as scored), and
    the guard's reason per record."""
    predictor.fit(records, trainings)
    scores = np.asarray(predictor.query(records), dtype=float)
    reasons = guard_reasons(space, records, predictor)
    order = sorted(range(len(records)), key=lambda i: (reasons[i] is not None, -scores[i], i))
    return order, reasons


def ranked_entries(space, records: Sequence, predictor) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every scored candidate as a best.json entry in the predictor's order (rank 1 first), and the guard's
    account for the summary: how many it set aside and why."""
    order, reasons = rank_candidates(space, records, predictor)
    bench = space.benchmark()
    entries = []
    for rank, i in enumerate(order, 1):
        entry = {"rank": rank, **entry_of(space, bench, records[i])}
        if reasons[i] is not None:
            entry["set_aside"] = reasons[i]
        entries.append(entry)
    counts = Counter(r for r in reasons if r is not None)
    return entries, {"set_aside": sum(counts.values()), "reasons": dict(counts)}
