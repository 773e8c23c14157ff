"""The paper's qualitative analysis, as code: how a benchmark target depends on each architecture
field, and the pruning rule that follows from the data.

Input rows are a space's `describe(arch)` fields plus the target (e.g. GLUE). For each field:
the target's mean per value, a Kruskal-Wallis test across the values and the effect size
(eta squared on ranks). The rule is grown greedily: fix the strongest field at its best value,
re-test the others inside that subset, and stop when no field has a large, significant effect.
On NAS-Bench-BERT this finds `num_layers == 4 and hidden_size == 256` (133 of 500 kept;
the 119 best all satisfy it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from scipy.stats import kendalltau, kruskal, rankdata


@dataclass
class FieldEffect:
    field: str
    means: dict[Any, float]  # value -> mean target
    counts: dict[Any, int]
    p_value: float  # Kruskal-Wallis across the values
    eta_squared: float  # share of the target's rank variance explained by the field
    best_value: Any  # the value with the best mean target


@dataclass
class PruningRule:
    conditions: list[tuple[str, Any]] = field(default_factory=list)
    kept: int = 0  # architectures satisfying the rule
    total: int = 0
    top_streak: int = 0  # how many of the best architectures (by target) satisfy it before the first that does not
    steps: list[FieldEffect] = field(default_factory=list)  # the effect that chose each condition

    def __str__(self) -> str:
        return " and ".join(f"{f} == {v!r}" for f, v in self.conditions) or "True"

    def matches(self, row: dict) -> bool:
        return all(row.get(f) == v for f, v in self.conditions)


def _effect(rows: Sequence[dict], name: str, target: str, higher_is_better: bool) -> FieldEffect | None:
    pairs = [(r[name], r[target]) for r in rows if r.get(name) is not None and r.get(target) is not None]
    values = sorted({v for v, _ in pairs}, key=str)
    if len(values) < 2:
        return None
    groups = {v: np.array([t for x, t in pairs if x == v], dtype=float) for v in values}
    if any(len(g) == 0 for g in groups.values()):
        return None
    try:
        p_value = float(kruskal(*groups.values()).pvalue)
    except ValueError:  # all targets identical
        p_value = 1.0
    ranks = rankdata([t for _, t in pairs])
    grand = ranks.mean()
    total_ss = float(((ranks - grand) ** 2).sum())
    between = 0.0
    for v in values:
        r = ranks[[i for i, (x, _) in enumerate(pairs) if x == v]]
        between += len(r) * (r.mean() - grand) ** 2
    means = {v: float(g.mean()) for v, g in groups.items()}
    best = (max if higher_is_better else min)(means, key=means.get)
    return FieldEffect(name, means, {v: len(g) for v, g in groups.items()}, p_value, between / total_ss if total_ss else 0.0, best)


def field_effects(
    rows: Sequence[dict], target: str = "glue", fields: Sequence[str] | None = None, higher_is_better: bool = True
) -> list[FieldEffect]:
    """The effect of every field on the target, strongest (largest eta squared) first."""
    names = fields or sorted({k for r in rows for k in r if k != target and k != "id"})
    effects = [e for e in (_effect(rows, n, target, higher_is_better) for n in names) if e is not None]
    return sorted(effects, key=lambda e: -e.eta_squared)


def pruning_rule(
    rows: Sequence[dict],
    target: str = "glue",
    fields: Sequence[str] | None = None,
    higher_is_better: bool = True,
    alpha: float = 1e-6,
    min_eta_squared: float = 0.1,
    keep_top: int = 10,
) -> PruningRule:
    """Greedy conjunction of `field == best value` while some field has a large (eta^2 >= min_eta_squared),
    significant (p < alpha; many fields are tested, so alpha is strict) effect and its best value is
    shared by the `keep_top` best architectures of the current subset (a pruning rule must not drop the best)."""
    rule = PruningRule(total=len(rows))
    subset = list(rows)
    used: set[str] = set()
    while True:
        candidates = [e for e in field_effects(subset, target, fields, higher_is_better) if e.field not in used]
        top = sorted(subset, key=lambda r: r[target], reverse=higher_is_better)[:keep_top]
        strong = [
            e
            for e in candidates
            if e.p_value < alpha
            and e.eta_squared >= min_eta_squared
            and all(r.get(e.field) == e.best_value for r in top)
        ]
        if not strong:
            break
        best = strong[0]
        rule.conditions.append((best.field, best.best_value))
        rule.steps.append(best)
        used.add(best.field)
        subset = [r for r in subset if r.get(best.field) == best.best_value]
    rule.kept = len(subset)
    ordered = sorted(rows, key=lambda r: r[target], reverse=higher_is_better)
    for row in ordered:
        if not rule.matches(row):
            break
        rule.top_streak += 1
    return rule


def ordinal_baseline(
    rows: Sequence[dict], target: str = "glue", fields: Sequence[str] = ("num_layers", "hidden_size")
) -> tuple[float, float]:
    """Kendall tau (tau-b) and its p-value of ranking by the fields' values in lexicographic order
    (depth first, then width): the paper's depth/width baseline (tau = 0.80 on NAS-Bench-BERT)."""
    keys = sorted({tuple(r[f] for f in fields) for r in rows})
    order = {k: i for i, k in enumerate(keys)}
    score = [order[tuple(r[f] for f in fields)] for r in rows]
    tau, p = kendalltau(score, [r[target] for r in rows])
    return float(tau), float(p)
