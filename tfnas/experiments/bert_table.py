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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = out.with_name(out.stem + "_figures")
    folder.mkdir(exist_ok=True)
    keys = [m.key for m in metrics if not m.key.endswith("_norm")]
    cols = 4
    fig, axes = plt.subplots(math.ceil(len(keys) / cols), cols, figsize=(4 * cols, 3.2 * math.ceil(len(keys) / cols)))
    colour = [2 * (d["num_layers"] == 4) + (d["hidden_size"] == 256) for d in described]
    for ax, key in zip(axes.flat, keys):
        values = np.array([float(r[key]) for r in rows])
        finite = np.isfinite(values)
        ax.scatter(values[finite], np.array(glue)[finite], c=np.array(colour)[finite], s=6, cmap="viridis")
        tau = next(t["tau"] for t in table if t["metric"] == key)
        ax.set_title(f"{key} (tau {tau:.2f})", fontsize=8)
        if key in ("params", "activation_distance_sum"):
            ax.set_xscale("log")
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    fig.supylabel("GLUE")
    fig.tight_layout()
    fig.savefig(folder / "metrics_vs_glue.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5))
    names = [t["metric"] for t in table]
    y = np.arange(len(names))
    ax.barh(y - 0.2, [t["tau"] for t in table], 0.4, label="ours (real sizes)")
    ax.barh(y + 0.2, [t["tau_published"] for t in table], 0.4, label="published")
    ax.set_yticks(y, names, fontsize=7)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("Kendall tau with GLUE")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "tau_ours_vs_published.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    groups = sorted({(d["num_layers"], d["hidden_size"]) for d in described})
    ax.boxplot([[g for d, g in zip(described, glue) if (d["num_layers"], d["hidden_size"]) == k] for k in groups])
    ax.set_xticks(range(1, len(groups) + 1), [f"{l} layers / {h}" for l, h in groups])
    ax.set_ylabel("GLUE")
    fig.tight_layout()
    fig.savefig(folder / "glue_by_depth_width.png", dpi=110)
    plt.close(fig)


