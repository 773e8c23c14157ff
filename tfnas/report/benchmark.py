"""Look scored architectures up in the space's tabular benchmark and measure how well the metric ranks them."""
from __future__ import annotations

import logging
import math
from typing import Any

from tqdm.auto import tqdm

from tfnas.errors import TfnasError

log = logging.getLogger("tfnas")


def benchmark_truth(
    space, rows: list[dict[str, Any]], higher_is_better: bool, progress: bool | None = None
) -> dict[str, Any] | None:
    """The benchmark's trained result of every scored architecture it labels, and Kendall's tau.

    Returns None when the space has no benchmark. Tau is computed over the labelled
    architectures whose score is defined; the undefined ones are counted in `excluded`.
    `best_found_target` is the trained result of the architecture the metric ranked first
    among the labelled ones; `best_in_matched_target` the best trained result among them.
    """
    bench = space.benchmark() if space is not None else None
    if bench is None:
        return None
    points = []
    for row in tqdm(rows, desc="benchmark lookup", unit="arch", disable=None if progress is None else not progress, leave=False):
        try:
            result = bench.query(space.from_json(row["arch"]))
        except TfnasError:
            continue
        if result is None or result.get(bench.target) is None:
            continue
        points.append(
            {"index": row["index"], "hash": row["hash"], "id": result.get("id"), "score": row["score"],
             "undefined": bool(row["undefined"]) or not math.isfinite(row["score"]), "target": float(result[bench.target])}
        )
    defined = [p for p in points if not p["undefined"] and math.isfinite(p["target"])]
    tau, p_value, ci = kendall_with_ci([p["score"] for p in defined], [p["target"] for p in defined])
    info: dict[str, Any] = {
        "name": bench.name,
        "target": bench.target,
        "target_higher_is_better": bench.higher_is_better,
        "scored": len(rows),
        "matched": len(points),
        "excluded_undefined": len(points) - len(defined),
        "kendall_tau": tau,
        "kendall_p": p_value,
        "kendall_ci95": ci,
        "kendall_n": len(defined),
        "points": points,
    }
    _add_best_targets(info, higher_is_better)
    return info


#: fewest labelled architectures for which Kendall's tau is reported (with n = 2 it is always +-1)
MIN_TAU_N = 10
BOOTSTRAP = 1000


def kendall_with_ci(x: list[float], y: list[float], seed: int = 0) -> tuple[float | None, float | None, list[float] | None]:
    """Kendall's tau, its p-value and a 95% percentile-bootstrap interval (resampling the pairs,
    Efron & Tibshirani 1993); all None below MIN_TAU_N pairs, where tau says nothing."""
    if len(x) < MIN_TAU_N:
        return None, None, None
    from scipy.stats import kendalltau

    from tfnas.bootstrap import percentile_interval

    res = kendalltau(x, y)
    if math.isnan(res.statistic):
        return None, None, None
    resamples = BOOTSTRAP if len(x) <= 2000 else BOOTSTRAP // 5  # large pools: fewer, each slower
    low, high = percentile_interval((x, y), lambda a, b: kendalltau(a, b).statistic, resamples, seed)
    ci = None if math.isnan(low) else [low, high]
    return float(res.statistic), (None if math.isnan(res.pvalue) else float(res.pvalue)), ci


def tau_text(info: dict[str, Any], metric: str) -> str:
    """`Kendall τ = -0.21 [95% CI -0.29, -0.13] (n = 275)`, or why it is not shown."""
    n = info.get("kendall_n", 0)
    if info.get("kendall_tau") is None:
        if n < MIN_TAU_N:
            return f"Kendall τ not shown: n = {n} labelled architectures with defined scores (needs ≥ {MIN_TAU_N})"
        return f"Kendall τ undefined (n = {n}: a constant metric or target)"
    ci = info.get("kendall_ci95")
    interval = f" [95% CI {ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""
    return f"Kendall τ({metric}, {info['target']}) = {info['kendall_tau']:+.3f}{interval} (n = {n})"


def _add_best_targets(info: dict[str, Any], higher_is_better: bool) -> None:
    """Fill best_found_target (the metric's top labelled pick) and best_in_matched_target (the oracle's)."""
    defined = [p for p in info["points"] if not p["undefined"]]
    pick = sorted(defined, key=lambda p: p["score"], reverse=higher_is_better)
    info["best_found_target"] = pick[0]["target"] if pick else None
    info["best_found_hash"] = pick[0]["hash"] if pick else None
    targets = [p["target"] for p in info["points"] if math.isfinite(p["target"])]
    pick_target = max if info["target_higher_is_better"] else min
    info["best_in_matched_target"] = pick_target(targets) if targets else None
