"""Rank correlation of metric values with a benchmark target: the one routine every script uses.

Undefined scores. A metric that is undefined for an architecture is stored as its worst value
(+-inf, flagged in the `undefined` column); a value that is missing altogether is NaN. Here:
- +-inf (flagged worst) is *kept* and ranked beyond every defined value, on its own side (-inf
  lowest, +inf highest; ties among them), so an undefined architecture counts as the worst-scored
  one, as a search would treat it;
- NaN (missing) and architectures without a finite target are left out;
- Pearson r, which needs values, uses the defined (finite) values only.
Kendall tau is scipy's tau-b; Spearman rho is over average ranks.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from scipy import stats


def rankable(values: np.ndarray) -> np.ndarray:
    """+-inf replaced by finite stand-ins beyond every defined value (order kept)."""
    values = np.asarray(values, float).copy()
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return values
    span = float(finite.max() - finite.min()) or 1.0
    values[values == np.inf] = finite.max() + span
    values[values == -np.inf] = finite.min() - span
    return values


def _clean(values, target) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, float)
    y = np.asarray(target, float)
    keep = ~np.isnan(x) & np.isfinite(y)
    return x[keep], y[keep]


def rank_correlations(values: Sequence[float], target: Sequence[float]) -> dict[str, float]:
    """Kendall tau and Spearman rho (flagged worst scores ranked last), Pearson r over defined values, and n."""
    x, y = _clean(values, target)
    out = {"n": int(x.size), "kendall": math.nan, "spearman": math.nan, "pearson": math.nan}
    if x.size < 3:
        return out
    ranked = rankable(x)
    if np.ptp(ranked) > 0 and np.ptp(y) > 0:
        out["kendall"] = float(stats.kendalltau(ranked, y)[0])
        out["spearman"] = float(stats.spearmanr(ranked, y)[0])
    defined = np.isfinite(x)
    if defined.sum() >= 3 and np.ptp(x[defined]) > 0:
        out["pearson"] = float(stats.pearsonr(x[defined], y[defined])[0])
    return out


def kendall(x, y) -> float:
    return rank_correlations(x, y)["kendall"]


def spearman(x, y) -> float:
    return rank_correlations(x, y)["spearman"]


def bootstrap_ci(
    values: Sequence[float], target: Sequence[float], statistic: Callable = kendall,
    resamples: int = 1000, level: float = 0.95, seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of `statistic` over architectures (resampled with replacement;
    tfnas.bootstrap, resamples with an undefined statistic left out)."""
    from tfnas.bootstrap import percentile_interval

    x, y = _clean(values, target)
    if x.size < 3:
        return math.nan, math.nan
    return percentile_interval((x, y), statistic, resamples, seed, level)


def ranks(values: Sequence[float]) -> np.ndarray:
    return stats.rankdata(rankable(np.asarray(values, float)))


def partial_spearman(x, y, z) -> float:
    """Spearman correlation of x and y with z partialled out (Pearson partial correlation of the ranks)."""
    rx, ry, rz = ranks(x), ranks(y), ranks(z)
    r_xy = np.corrcoef(rx, ry)[0, 1]
    r_xz = np.corrcoef(rx, rz)[0, 1]
    r_yz = np.corrcoef(ry, rz)[0, 1]
    denominator = math.sqrt(max(0.0, (1 - r_xz**2) * (1 - r_yz**2)))
    return float((r_xy - r_xz * r_yz) / denominator) if denominator > 0 else math.nan


def rank_sum(columns: Sequence[Sequence[float]], signs: Sequence[int]) -> np.ndarray:
    """Sum of the columns' ranks, each ranked so that larger means better (sign +1) or worse (-1)."""
    return np.sum([s * ranks(c) for c, s in zip(columns, signs)], axis=0)


def correlation_matrix(columns: dict[str, Sequence[float]], statistic: Callable = spearman) -> np.ndarray:
    names = list(columns)
    matrix = np.eye(len(names))
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            matrix[i, j] = matrix[j, i] = statistic(columns[a], columns[names[j]])
    return matrix
