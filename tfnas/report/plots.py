"""The report's PNG plots, drawn with matplotlib's Agg canvas (no display, no global backend switch)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator


def _figure(width: float = 6.0, height: float = 4.0):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def best_so_far_series(scores: Sequence[float], higher_is_better: bool) -> np.ndarray:
    """Best score after each evaluation (undefined scores carry the worst value, so they never lead)."""
    values = np.asarray(scores, dtype=float)
    values = np.where(np.isnan(values), -np.inf if higher_is_better else np.inf, values)
    return np.maximum.accumulate(values) if higher_is_better else np.minimum.accumulate(values)


def plot_best_so_far(path: Path, scores: Sequence[float], undefined: Sequence[bool], higher_is_better: bool, metric: str) -> None:
    """Every evaluation's score, the best-so-far curve, and the undefined evaluations marked on the axis."""
    fig, ax = _figure()
    x = np.arange(1, len(scores) + 1)
    values = np.asarray(scores, dtype=float)
    bad = np.asarray(undefined, dtype=bool) | ~np.isfinite(values)
    ax.scatter(x[~bad], values[~bad], s=10, alpha=0.4, color="tab:gray", label="score")
    best = best_so_far_series(scores, higher_is_better)
    ax.step(x, np.where(np.isfinite(best), best, np.nan), where="post", color="tab:blue", label="best so far")
    if bad.any():
        low, high = ax.get_ylim()
        edge = low if higher_is_better else high
        ax.scatter(x[bad], np.full(int(bad.sum()), edge), marker="x", color="tab:red", clip_on=False, label=f"undefined ({int(bad.sum())})")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("evaluations")
    ax.set_ylabel(metric)
    ax.set_title(f"best {metric} so far ({'higher' if higher_is_better else 'lower'} is better)")
    ax.legend(loc="best", fontsize="small")
    fig.savefig(path)


def plot_histogram(path: Path, finite_scores: Sequence[float], undefined_count: int, metric: str) -> None:
    fig, ax = _figure()
    if finite_scores:
        bins = int(min(40, max(5, math.ceil(math.sqrt(len(finite_scores))))))
        ax.hist(finite_scores, bins=bins, color="tab:blue", alpha=0.8)
    ax.set_xlabel(metric)
    ax.set_ylabel("architectures")
    note = f"; {undefined_count} undefined not shown" if undefined_count else ""
    ax.set_title(f"{metric}: n = {len(finite_scores)}{note}")
    fig.savefig(path)


def plot_benchmark(path: Path, scores: Sequence[float], targets: Sequence[float], metric: str, target: str, tau: float | None, excluded: int) -> None:
    """Training-free score against the benchmark's trained result: raw values, and ranks (what Kendall's tau sees)."""
    from matplotlib.figure import Figure
    from scipy.stats import rankdata

    fig = Figure(figsize=(10.0, 4.0), dpi=100, layout="constrained")
    raw, ranked = fig.subplots(1, 2)
    raw.scatter(scores, targets, s=14, alpha=0.7, color="tab:blue")
    raw.set_xlabel(metric)
    raw.set_ylabel(f"{target} (benchmark)")
    ranked.scatter(rankdata(scores), rankdata(targets), s=14, alpha=0.7, color="tab:green")
    ranked.set_xlabel(f"rank of {metric}")
    ranked.set_ylabel(f"rank of {target}")
    title = f"Kendall τ = {tau:.3f}" if tau is not None and math.isfinite(tau) else "Kendall τ undefined"
    title += f" (n = {len(scores)}"
    title += f"; {excluded} undefined excluded)" if excluded else ")"
    fig.suptitle(title)
    fig.savefig(path)


def plot_comparison(path: Path, curves: dict[str, list[tuple[str, np.ndarray]]]) -> None:
    """Best-so-far curves of several runs, one panel per metric (scores of different metrics don't share an axis)."""
    from matplotlib.figure import Figure

    metrics = sorted(curves)
    fig = Figure(figsize=(6.0, 3.2 * len(metrics)), dpi=100, layout="constrained")
    axes = fig.subplots(len(metrics), 1, squeeze=False)[:, 0]
    for ax, metric in zip(axes, metrics):
        for label, best in curves[metric]:
            x = np.arange(1, len(best) + 1)
            ax.step(x, np.where(np.isfinite(best), best, np.nan), where="post", label=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("evaluations")
        ax.set_ylabel(f"best {metric}")
        ax.legend(loc="best", fontsize="x-small")
    fig.savefig(path)
