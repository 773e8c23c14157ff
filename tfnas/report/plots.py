"""The report's PNG plots, drawn with matplotlib's Agg canvas (no display, no global backend switch).

Training-free metrics are often heavy-tailed (hidden covariance spans -238 to -2.2e6 over 15 runs),
so every axis that shows metric values switches to a symmetric log scale when the values span
more than two orders of magnitude (`wide`), and says so in its label. Every figure has a title,
its legend outside the data, distinct line styles per series, and is written at `DPI`.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

#: values whose 95th and 5th percentiles of |value| differ by more than this (or whose extremes differ by
#: five times more) get a symlog axis
WIDE_RATIO = 20.0
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray",
          "tab:olive", "tab:cyan")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
LINESTYLES = ("-", "--", "-.", ":")
DPI = 150


def style(i: int) -> dict:
    """A distinct colour, marker and line style for series i (lines that coincide stay visible)."""
    return {"color": COLORS[i % len(COLORS)], "marker": MARKERS[i % len(MARKERS)], "linestyle": LINESTYLES[i % len(LINESTYLES)]}


def _figure(width: float = 6.0, height: float = 4.0):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def wide(values: Sequence[float]) -> float | None:
    """The symlog linear threshold when `values` span orders of magnitude, else None."""
    mags = np.abs(np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float))
    mags = mags[mags > 0]
    if len(mags) < 2:
        return None
    low, high = np.percentile(mags, [5, 95])
    if high / low <= WIDE_RATIO and mags.max() / mags.min() <= WIDE_RATIO * 5:
        return None
    return float(10 ** math.floor(math.log10(max(low, mags.min()))))


def scale_axis(ax, values: Sequence[float], axis: str, label: str) -> bool:
    """A log axis ("x"/"y") when the values are wide: plain log when all are positive, else symlog (which
    also takes negatives and zero); the label says which scale it is."""
    threshold = wide(values)
    setter = ax.set_xscale if axis == "x" else ax.set_yscale
    label_setter = ax.set_xlabel if axis == "x" else ax.set_ylabel
    if threshold is None:
        label_setter(label)
        return False
    finite = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if finite.size and finite.min() > 0:
        setter("log")
        label_setter(f"{label} (log axis)")
        return True
    setter("symlog", linthresh=threshold)
    label_setter(f"{label} (symlog axis)")
    return True


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
    scale_axis(ax, values[~bad], "y", metric)
    if bad.any():  # on the worse edge of the axes (axes coordinates), never at a value a real score could have
        edge = 0.0 if higher_is_better else 1.0
        ax.scatter(x[bad], np.full(int(bad.sum()), edge), marker="x", color="tab:red", clip_on=False,
                   transform=ax.get_xaxis_transform(), label=f"undefined ({int(bad.sum())}, on the axis edge)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("evaluations")
    ax.set_title(f"best {metric} so far ({'higher' if higher_is_better else 'lower'} is better)")
    fig.legend(loc="outside lower center", ncols=3, fontsize="small")
    fig.savefig(path, dpi=DPI)


def plot_histogram(path: Path, finite_scores: Sequence[float], undefined_count: int, metric: str) -> None:
    """The score distribution; wide scores get bins of equal width on a symlog axis, so they don't share one bin."""
    fig, ax = _figure()
    values = np.asarray(finite_scores, dtype=float)
    if len(values):
        bins = int(min(40, max(5, math.ceil(math.sqrt(len(values))))))
        threshold = wide(values)
        if threshold is not None:
            edges = _symlog_edges(values, threshold, bins)
            ax.hist(values, bins=edges, color="tab:blue", alpha=0.8)
        else:
            ax.hist(values, bins=bins, color="tab:blue", alpha=0.8)
        scale_axis(ax, values, "x", metric)
    else:
        ax.set_xlabel(metric)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("architectures")
    note = f"; {undefined_count} undefined not shown" if undefined_count else ""
    ax.set_title(f"{metric} of the scored architectures: n = {len(values)}{note}")
    fig.savefig(path, dpi=DPI)


def _symlog_edges(values: np.ndarray, threshold: float, bins: int) -> np.ndarray:
    """Bin edges equally spaced in matplotlib's symlog coordinates (linear within ±threshold, log outside)."""
    def forward(v):
        return np.sign(v) * np.where(np.abs(v) <= threshold, np.abs(v) / threshold, 1 + np.log10(np.maximum(np.abs(v), threshold) / threshold))

    def inverse(t):
        return np.sign(t) * np.where(np.abs(t) <= 1, np.abs(t) * threshold, threshold * 10 ** (np.abs(t) - 1))

    low, high = forward(values.min()), forward(values.max())
    if high - low < 1e-12:
        high, low = high + 0.5, low - 0.5
    return inverse(np.linspace(low, high, bins + 1))


def plot_benchmark(path: Path, scores: Sequence[float], targets: Sequence[float], metric: str, target: str, tau_text: str) -> None:
    """Training-free score against the benchmark's trained result: raw values, and ranks (what Kendall's tau sees)."""
    from matplotlib.figure import Figure
    from scipy.stats import rankdata

    fig = Figure(figsize=(10.0, 4.0), dpi=DPI, layout="constrained")
    raw, ranked = fig.subplots(1, 2)
    raw.scatter(scores, targets, s=14, alpha=0.7, color="tab:blue")
    scale_axis(raw, scores, "x", metric)
    scale_axis(raw, targets, "y", f"{target} (benchmark)")
    raw.set_title("values")
    ranked.scatter(rankdata(scores), rankdata(targets), s=14, alpha=0.7, color="tab:green")
    ranked.set_xlabel(f"rank of {metric}")
    ranked.set_ylabel(f"rank of {target}")
    ranked.set_title("ranks")
    ranked.xaxis.set_major_locator(MaxNLocator(integer=True))
    ranked.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(tau_text)
    fig.savefig(path, dpi=DPI)


def loss_series(names) -> list[str]:
    """The series a training-curves figure draws: the losses (training, evaluation), not the bookkeeping
    a trainer also logs (a BPTT window length, a learning rate), which would be a panel of noise."""
    return [n for n in names if n.endswith("loss")]


def plot_training_curves(path: Path, curves: dict[str, dict[str, list[tuple[int, float]]]], labels: dict[str, str],
                         diverged: dict[str, int] | None = None) -> None:
    """One panel per loss series (training loss, evaluation loss, ...), one line per candidate, one legend.

    `curves`: candidate -> series name -> [(step, value)]; `labels`: candidate -> legend label; `diverged`:
    candidate -> the step its training diverged at, marked X at the top of every panel (a candidate that
    diverged before its first logged step has no line, only that mark)."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    diverged = diverged or {}
    names: list[str] = []
    for series in curves.values():
        names += [n for n in loss_series(series) if n not in names]
    names.sort(key=lambda n: -max(len(s.get(n, ())) for s in curves.values()))  # most logged (training loss) first
    names = names[:4] or ["train_loss"]
    fig = Figure(figsize=(6.0 * min(2, len(names)), 3.6 * math.ceil(len(names) / 2) + 0.8), dpi=DPI, layout="constrained")
    axes = fig.subplots(math.ceil(len(names) / 2), min(2, len(names)), squeeze=False, sharex=True).ravel()
    handles = {}
    for ax, name in zip(axes, names):
        values = []
        for i, (candidate, series) in enumerate(curves.items()):
            st = style(i)
            points = sorted(series.get(name, ()))
            label = labels.get(candidate, candidate) + (f" (diverged at step {diverged[candidate]})" if candidate in diverged else "")
            handles.setdefault(label, Line2D([], [], color=st["color"], marker=st["marker"], linestyle=st["linestyle"]))
            if points:
                steps, ys = zip(*points)
                values += ys
                ax.plot(steps, ys, color=st["color"], marker=st["marker"], linestyle=st["linestyle"],
                        markersize=4 if len(points) < 30 else 0, linewidth=1.4)
            if candidate in diverged:  # at the top of the panel (axes coordinates): the loss there was not a number
                ax.scatter([diverged[candidate]], [0.96], marker="X", s=60, color=st["color"], edgecolor="black",
                           transform=ax.get_xaxis_transform(), zorder=5)
        scale_axis(ax, values, "y", f"{name} (nats/token)")
        ax.set_xlabel("optimizer step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelbottom=True)
        ax.set_title(name.replace("_", " "))
    for ax in axes[len(names):]:
        ax.set_visible(False)
    if diverged:
        handles["diverged (X at the top, at the step)"] = Line2D([], [], color="gray", marker="X", linestyle="none",
                                                                       markeredgecolor="black", markersize=8)
    fig.suptitle("Short training of the shortlist: loss per optimizer step (lower is better)")
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=min(3, len(handles)),
               fontsize="small", title="final rank, hash", title_fontsize="small")
    fig.savefig(path, dpi=DPI)
    return fig


def plot_comparison(path: Path, curves: dict[str, dict[str, list[np.ndarray]]], higher: dict[str, bool] | None = None) -> None:
    """Best-so-far curves over seeds: per metric panel, per group (strategy) the median over its seeds and
    the interquartile band, with distinct colours and markers and one legend for the whole figure.

    `curves`: metric -> group label -> one best-so-far array per seed.
    """
    from matplotlib.figure import Figure

    metrics = sorted(curves)
    groups = sorted({g for by_group in curves.values() for g in by_group})
    fig = Figure(figsize=(6.5, 3.4 * len(metrics) + 0.6), dpi=DPI, layout="constrained")
    axes = fig.subplots(len(metrics), 1, squeeze=False)[:, 0]
    handles = {}
    for ax, metric in zip(axes, metrics):
        shown = []
        for group in groups:
            runs = curves[metric].get(group)
            if not runs:
                continue
            st = style(groups.index(group))
            length = max(len(r) for r in runs)
            stack = np.full((len(runs), length), np.nan)
            for k, r in enumerate(runs):
                stack[k, : len(r)] = np.where(np.isfinite(r), r, np.nan)
            x = np.arange(1, length + 1)
            with np.errstate(all="ignore"):
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column (every seed undefined so far)
                    median = np.nanmedian(stack, axis=0)
                    q25, q75 = np.nanpercentile(stack, [25, 75], axis=0)
            ax.fill_between(x, q25, q75, step="post", color=st["color"], alpha=0.2, linewidth=0)
            every = max(1, length // 10)
            ax.step(x, median, where="post", color=st["color"], linestyle=st["linestyle"], linewidth=1.6)
            start = (groups.index(group) * max(1, every // max(1, len(groups)))) % every  # markers of groups don't overlap
            ax.plot(x[start::every], median[start::every], linestyle="none", color=st["color"], marker=st["marker"], markersize=5)
            from matplotlib.lines import Line2D

            handles.setdefault(group, Line2D([], [], color=st["color"], marker=st["marker"], linestyle=st["linestyle"], linewidth=1.6,
                                             label=f"{group} (median, IQR band; {len(runs)} seed{'s' if len(runs) != 1 else ''})"))
            shown += list(stack[np.isfinite(stack)])
        direction = "" if higher is None or metric not in higher else (" (higher is better)" if higher[metric] else " (lower is better)")
        scale_axis(ax, shown, "y", f"best {metric} so far")
        ax.set_title(f"{metric}{direction}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("evaluations")
    fig.suptitle("Best score so far, per strategy: median over seeds")
    fig.legend(handles=list(handles.values()), loc="outside lower center", ncols=1 if len(handles) > 3 else len(handles), fontsize="small")
    fig.savefig(path, dpi=DPI)
    return fig
