"""Reproduce the paper's NAS-Bench-BERT table: every BERT metric on the benchmark's 500
architectures, rank correlation with GLUE beside the published values, the depth/width ordinal
baseline, the qualitative pruning rule, and figures.

    PYTHONPATH=. python scripts/reproduce_bert.py                      # fast preset, all 500
    PYTHONPATH=. python scripts/reproduce_bert.py --limit 50 --out bert50.csv
    PYTHONPATH=. python scripts/reproduce_bert.py --full               # the paper's 128 x 512 batch

Rows are streamed to --out (`id`, then one column per metric) as each architecture finishes;
rerunning with the same --out skips the ids already there (resumable). The correlation table
goes to <out stem>_table.csv and the figures to <out stem>_figures/ (PNG).
Published values: BERT_results_activation.csv (computed by the paper's code at hidden 256 /
feed-forward 1024 whatever the architecture; ours build each architecture as described).
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search_spaces.nas_bench_bert import NasBenchBertSpace  # noqa: E402
from tfnas.analysis import field_effects, ordinal_baseline, pruning_rule  # noqa: E402
from tfnas.metrics import Scorer  # noqa: E402
from tfnas.metrics.suite import metric_suite  # noqa: E402

# our metric key -> the published column it is compared with (the published code's variant where they differ)
PUBLISHED = {
    "synaptic_diversity": "Synaptic Diversity",
    "synaptic_diversity_norm": "Synaptic Diversity Normalized",
    "synaptic_saliency": "Synaptic Saliency",
    "synaptic_saliency_norm": "Synaptic Saliency Normalized",
    "activation_distance": "Activation Distance",
    "activation_distance_norm": "Activation Distance Normalized",
    "activation_distance_sum": "Activation Distance",
    "activation_distance_sum_norm": "Activation Distance Normalized",
    "jacobian_cov": "Jacobian Score",
    "jacobian_cosine": "Jacobian Score Normalized",
    "params": "Number of Parameters",
    "head_importance": "Head Importance",
    "head_importance_norm": "Head Importance Normalized",
    "head_confidence": "Head Confidence",
    "head_confidence_norm": "Head Confidence Normalized",
    "head_softmax_confidence": "Head Softmax Confidence",
    "head_softmax_confidence_norm": "Head Softmax Confidence Normalized",
    "head_softmax_confidence_maxhead": "Head Softmax Confidence",
    "head_softmax_confidence_maxhead_norm": "Head Softmax Confidence Normalized",
}


def score(args, space, metrics, out: Path) -> None:
    keys = [m.key for m in metrics]
    done: set[str] = set()
    if out.exists():
        with open(out, newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames and reader.fieldnames[1:] != keys:
                sys.exit(f"reproduce_bert: {out} has columns {reader.fieldnames[1:]}; expected {keys}. Use another --out.")
            done = {row["id"] for row in reader}
    pool = space.benchmark().pool()
    if args.limit is not None:
        pool = pool[: args.limit]
    todo = [(i, a) for i, a in pool if i not in done]
    if not todo:
        return
    scorer = Scorer(space, metrics, device=args.device, seed=args.seed)
    new = not out.exists()
    with open(out, "a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["id", *keys])
        for n, (arch_id, arch) in enumerate(todo, 1):
            evaluation = scorer(arch)
            writer.writerow([arch_id, *(repr(evaluation.scores[k]) for k in keys)])
            handle.flush()
            flag = f" undefined: {','.join(evaluation.undefined)}" if evaluation.undefined else ""
            print(f"[{n}/{len(todo)}] id {arch_id}: {evaluation.seconds:.2f}s{flag}", flush=True)


def correlations(x, y) -> tuple[float, float]:
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.std(x) == 0:
        return math.nan, math.nan
    return float(kendalltau(x, y).statistic), float(spearmanr(x, y).statistic)


def analyse(space, out: Path, metrics) -> None:
    bench = space.benchmark()
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids = [r["id"] for r in rows]
    glue = [bench.query_id(i)["glue"] for i in ids]
    table = []
    print(f"\nKendall tau / Spearman rho with GLUE over {len(ids)} architectures (ours | published, same ids)")
    print(f"{'metric':>38} {'tau':>7} {'rho':>7} | {'tau pub':>7} {'rho pub':>7}  published column")
    for m in metrics:
        ours = [float(r[m.key]) for r in rows]
        tau, rho = correlations(ours, glue)
        column = PUBLISHED.get(m.key)
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the paper's 128 x 512 batch instead of the fast preset")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N benchmark architectures")
    parser.add_argument("--out", default=None, help="CSV of metric values (default results/bert_metrics_<preset>.csv)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared machine; 0: default)")
    parser.add_argument("--no-score", action="store_true", help="only analyse an existing --out")
    parser.add_argument("--metrics", default="paper",
                        help='"paper" (the paper\'s suite), "zoo" (the zero-cost proxies), "all", or a comma list of conf/metric names')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    preset = "full" if args.full else "fast"
    out = Path(args.out or f"results/bert_metrics_{preset}.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    space = NasBenchBertSpace(preset=preset)
    from tfnas.experiments.rnn_table import build_metric, metric_names

    metrics = [build_metric(n) for n in metric_names(args.metrics, "bert")]
    if not args.no_score:
        score(args, space, metrics, out)
    analyse(space, out, metrics)


if __name__ == "__main__":
    main()
