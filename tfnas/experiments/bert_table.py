"""The paper's NAS-Bench-BERT table from this project's metrics: correlation with GLUE beside the
published values, the depth/width ordinal baseline, the qualitative pruning rule, and figures.
(Scoring: tfnas.experiments.pool_scoring; correlations: tfnas.experiments.correlation.)"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from tfnas.analysis import field_effects, ordinal_baseline, pruning_rule
from tfnas.experiments.pool_scoring import read_rows


def correlations(x, y) -> tuple[float, float]:
    """(Kendall tau, Spearman rho) with the one treatment of undefined scores (see correlation.py)."""
    from tfnas.experiments.correlation import rank_correlations

    out = rank_correlations(x, y)
    return out["kendall"], out["spearman"]


def analyse(space, out: Path, metrics) -> list[dict]:
    """Print and write the correlation table of the scored rows in `out` (and figures); return the table."""
    bench = space.benchmark()
    rows = read_rows(out)
    ids = [r["id"] for r in rows]
    glue = [bench.query_id(i)["glue"] for i in ids]
    table = []
    print(f"\nKendall tau / Spearman rho with GLUE over {len(ids)} architectures (ours | published, same ids)")
    print(f"{'metric':>38} {'tau':>7} {'rho':>7} | {'tau pub':>7} {'rho pub':>7}  published column")
    for m in metrics:
        ours = [float(r[m.key]) for r in rows]
        tau, rho = correlations(ours, glue)
        column = bench.published_by_key.get(m.key)
        tau_p = rho_p = math.nan
        if column:
            tau_p, rho_p = correlations([bench.published[i][column] for i in ids], glue)
        table.append({"metric": m.key, "tau": tau, "rho": rho, "published_column": column or "", "tau_published": tau_p, "rho_published": rho_p})
        print(f"{m.key:>38} {tau:7.3f} {rho:7.3f} | {tau_p:7.3f} {rho_p:7.3f}  {column or '-'}")
    described = [{**space.describe(dict(bench.pool())[i]), "glue": g} for i, g in zip(ids, glue)]
    tau_o, _ = ordinal_baseline(described)
    print(f"{'ordinal (num_layers, hidden_size)':>38} {tau_o:7.3f}          | published tau 0.80")
    rank = [(d["num_layers"], d["hidden_size"]) for d in described]
    levels = {k: i for i, k in enumerate(sorted(set(rank)))}
    rho_o = correlations([levels[k] for k in rank], glue)[1]
    table.append({"metric": "ordinal_layers_hidden", "tau": tau_o, "rho": rho_o,
                  "published_column": "(spec)", "tau_published": 0.80, "rho_published": math.nan})
    rule = pruning_rule(described)
    print(f"\nqualitative rule from the data: {rule}  (keeps {rule.kept} of {rule.total}; the {rule.top_streak} best satisfy it)")
    for effect in field_effects(described)[:6]:
        means = ", ".join(f"{v}: {g:.1f}" for v, g in sorted(effect.means.items(), key=lambda kv: str(kv[0])))
        print(f"  {effect.field:>28}: eta^2 {effect.eta_squared:.3f}  p {effect.p_value:.2g}  GLUE by value {means}")
    table_path = out.with_name(out.stem + "_table.csv")
    with open(table_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    figures(out, rows, glue, table, described, metrics)
    print(f"\nwrote {table_path} and {out.with_name(out.stem + '_figures')}/")
    return table


def figures(out: Path, rows, glue, table, described, metrics) -> None:
    """<out stem>_figures/: each metric against GLUE, our tau beside the published one, GLUE by depth and width."""
    from tfnas.report.benchmark import kendall_with_ci

    folder = out.with_name(out.stem + "_figures")
    folder.mkdir(exist_ok=True)
    keys = [m.key for m in metrics if not m.key.endswith("_norm")]
    intervals = {}
    for t in table:
        values = [float(r[t["metric"]]) for r in rows] if t["metric"] in rows[0] else None
        if values is not None:
            pairs = [(v, g) for v, g in zip(values, glue) if math.isfinite(v)]
            intervals[t["metric"]] = kendall_with_ci([v for v, _ in pairs], [g for _, g in pairs])[2]
    _metrics_vs_glue(folder / "metrics_vs_glue.png", keys, rows, glue, described, table, intervals)
    _tau_bars(folder / "tau_ours_vs_published.png", table, intervals)
    _glue_by_depth_width(folder / "glue_by_depth_width.png", glue, described)


def _groups(described) -> list[tuple[int, int]]:
    return sorted({(d["num_layers"], d["hidden_size"]) for d in described})


def _metrics_vs_glue(path: Path, keys, rows, glue, described, table, intervals) -> None:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from tfnas.report.plots import DPI, MARKERS, scale_axis

    cols = 4
    fig = Figure(figsize=(4.2 * cols, 3.4 * math.ceil(len(keys) / cols) + 1.0), dpi=DPI, layout="constrained")
    axes = fig.subplots(math.ceil(len(keys) / cols), cols, squeeze=False).ravel()
    groups = _groups(described)
    colours = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
    glue = np.asarray(glue, dtype=float)
    for ax, key in zip(axes, keys):
        values = np.array([float(r[key]) for r in rows])
        finite = np.isfinite(values)
        for k, group in enumerate(groups):
            pick = finite & np.array([(d["num_layers"], d["hidden_size"]) == group for d in described])
            ax.scatter(values[pick], glue[pick], s=7, alpha=0.7, color=colours[k % len(colours)],
                       marker=MARKERS[k % len(MARKERS)], label=f"{group[0]} layers, hidden {group[1]}")
        if not scale_axis(ax, values[finite], "x", key):
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4), useOffset=False)
        ax.set_ylabel("GLUE")
        tau, ci = next(t["tau"] for t in table if t["metric"] == key), intervals.get(key)
        ax.set_title(f"{key}\nτ = {tau:+.2f}" + (f" [95% CI {ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else ""), fontsize="small")
    for ax in axes[len(keys):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(groups), fontsize="small", markerscale=2.5,
               title="depth and width", title_fontsize="small")
    fig.suptitle(f"NAS-Bench-BERT: each training-free metric against GLUE ({len(rows)} architectures; Kendall τ with "
                 "its 95% bootstrap interval)")
    fig.savefig(path, dpi=DPI)


def _tau_bars(path: Path, table, intervals) -> None:
    from matplotlib.figure import Figure

    from tfnas.report.plots import DPI

    fig = Figure(figsize=(8.5, 0.32 * len(table) + 2.0), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    names = [t["metric"] for t in table]
    y = np.arange(len(names))
    ours = np.array([t["tau"] for t in table], dtype=float)
    errors = np.array([[t - intervals[n][0], intervals[n][1] - t] if intervals.get(n) else [0.0, 0.0]
                       for n, t in zip(names, ours)]).T
    ax.barh(y - 0.2, ours, 0.4, xerr=errors, capsize=2, color="tab:blue", label="ours (each model at its real size), 95% CI")
    ax.barh(y + 0.2, [t["tau_published"] for t in table], 0.4, color="tab:orange", hatch="//", edgecolor="white",
            label="published (the paper's released scores)")
    ax.set_yticks(y, names, fontsize="small")
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("Kendall τ with GLUE (higher: ranks like the benchmark)")
    ax.set_title("NAS-Bench-BERT: Kendall τ with GLUE, ours beside the published values", fontsize="medium")
    fig.legend(loc="outside lower center", ncols=2, fontsize="small")
    fig.savefig(path, dpi=DPI)


def _glue_by_depth_width(path: Path, glue, described) -> None:
    from matplotlib.figure import Figure

    from tfnas.report.plots import DPI

    fig = Figure(figsize=(6.5, 4.2), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    groups = _groups(described)
    data = [[g for d, g in zip(described, glue) if (d["num_layers"], d["hidden_size"]) == k] for k in groups]
    ax.boxplot(data)
    ax.set_xticks(range(1, len(groups) + 1), [f"{l} layers\nhidden {h}\n(n = {len(v)})" for (l, h), v in zip(groups, data)])
    ax.set_ylabel("GLUE (NAS-Bench-BERT)")
    ax.set_xlabel("depth and hidden size")
    ax.set_title("GLUE by depth and width: the ordinal baseline's ordering")
    fig.savefig(path, dpi=DPI)
