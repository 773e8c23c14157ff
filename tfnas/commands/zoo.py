"""The zero-cost proxy table of one space: Kendall tau / Spearman rho with the benchmark target and
bootstrap 95% intervals, what each proxy adds to the base metric (partial rank correlation, gain of a
two-metric rank sum), the proxies' correlation heat map, and each proxy's cost per architecture.

    tfnas zoo --space rnn \\
        --scores results/rnn/zoo_metrics.csv,results/rnn/all_metrics.csv --out results/rnn/zoo
    tfnas zoo --space bert \\
        --scores results/bert/zoo_metrics_fast.csv,results/bert/bert_metrics_fast.csv --out results/bert/zoo

The first --scores file decides which architectures are tabulated (the others are joined by id);
a column already read is not replaced. Method: tfnas/experiments/zoo_table.py.
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

from tfnas.experiments.script import json_object
from tfnas.threads import clamp_threads


BASES = {"rnn": "hidden_cov", "bert": "head_confidence"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="tfnas zoo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", choices=sorted(BASES), required=True)
    parser.add_argument("--scores", required=True, help="comma list of score CSVs; the first is the zoo run")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--base", default=None, help="the metric to measure additions against (default hidden_cov / head_confidence)")
    parser.add_argument("--cost-archs", type=int, default=3, help="architectures each metric is timed on alone (0: skip)")
    parser.add_argument("--cost-metrics", default="zoo", help="metrics timed alone ('zoo', 'paper', 'all' or a list)")
    parser.add_argument("--space-json", default="{}", help="space options of the zoo run (for the timing)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args(argv)
    _, args.threads = clamp_threads(1, args.threads)

    import torch

    from tfnas.experiments import zoo_table as zt
    from tfnas.experiments.rnn_table import metric_names
    from tfnas.experiments.throughput import machine_load
    from tfnas.metrics.zoo import ZOO
    from tfnas.search_space import SPACES

    torch.set_num_threads(args.threads)
    base = args.base or BASES[args.space]
    space = SPACES.get(args.space)(**json_object(args.space_json, "--space-json"))
    bench = space.benchmark()
    id_column = "model_id" if args.space == "rnn" else "id"
    rows, columns = zt.join_scores([Path(p) for p in args.scores.split(",")], id_column)
    if args.space == "rnn":
        target = {str(k): v["test_loss"] for k, v in bench.published_table().items()}
    else:
        target = {i: bench.query_id(i)["glue"] for i, _ in bench.pool() if bench.query_id(i)}
    table = zt.build(rows, columns, target, bench.higher_is_better, base, args.resamples)
    costs: dict = {}
    if args.cost_archs:
        pool = dict(bench.pool())
        archs = [pool[i] if i in pool else pool[int(i)] for i in list(rows)[: args.cost_archs]]
        costs = zt.proxy_costs(space, metric_names(args.cost_metrics, args.space), archs)
    zoo = {c for c in columns if c in ZOO or (c.endswith("_norm") and c[: -len("_norm")] in ZOO)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    target_name = bench.target
    text = [
        f"# Zero-cost proxies on {bench.name}: {table[0]['n'] if table else 0} architectures, target {target_name} "
        f"({'higher' if bench.higher_is_better else 'lower'} is better)",
        "",
        f"Scores: {args.scores}. Base metric: {base}. Bootstrap: {args.resamples} resamples over architectures, "
        "percentile 95% intervals. Flagged undefined values are ranked worst (tfnas/experiments/correlation.py). "
        "Partial rho: Spearman of the metric with the target, the base partialled out. Tau gain: Kendall tau of "
        "rank(base) + rank(metric), each ranked in its declared better direction, minus the base's tau, signed so "
        "that positive = better than the base alone (paired bootstrap interval).",
        f"Cost: median seconds per architecture of each metric alone (model build, its passes, the score) on "
        f"{args.cost_archs} architectures, {args.threads} torch thread(s), {machine_load()} at the end.",
        "",
        zt.format_markdown(table, base, target_name, costs, zoo),
    ]
    figure = zt.heat_map(rows, columns, out / "zoo_heatmap.png", f"Spearman rho between metrics, {bench.name}")
    text += ["", f"Heat map: {figure.name}"]
    (out / "zoo_table.md").write_text("\n".join(text) + "\n", encoding="utf-8")
    with open(out / "zoo_table.csv", "w", newline="", encoding="utf-8") as handle:
        fields = ["metric", "n", "undefined", "kendall", "kendall_ci", "spearman", "spearman_ci",
                  "partial_spearman", "pair_gain", "pair_gain_ci", "seconds_alone"]
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for e in table:
            writer.writerow({**{k: e.get(k, "") for k in fields}, "seconds_alone": costs.get(e["metric"], "")})
    print("\n".join(text))
    return 0

