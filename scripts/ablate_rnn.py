"""Ablations of the RNN metrics, as the paper ran them but done right.

    PYTHONPATH=. python scripts/ablate_rnn.py --metrics hidden_cov,jacobian_cosine --out runs/ablation.csv

For 10 architectures (the paper's ablation models where recipes.json has them, then the first
labelled ones), scores each metric on 10 NON-overlapping minibatches (windows k*T..(k+1)*T of
the batchified test split, seed 0) and with 10 initialisation seeds (window 0). Reports per
metric and per factor the coefficient of variation (std / |mean| over the 10 repeats, median
over architectures) and the between/within ratio (variance of the architecture means over the
mean within-architecture variance: > 1 means the metric separates architectures more than the
batch or seed moves it). Undefined values are flagged and counted, and left out of the statistics.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
from pathlib import Path

PAPER_MODELS = (1009532, 1003424, 1006809, 1004163, 1011260, 1002763, 1013157, 1002378, 1001317, 1013823)


def variation(table: dict[str, list[float]]) -> tuple[float, float, int]:
    """(median CV over architectures, between/within variance ratio, undefined count)."""
    cvs, means, within = [], [], []
    undefined = 0
    for values in table.values():
        finite = [v for v in values if math.isfinite(v)]
        undefined += len(values) - len(finite)
        if len(finite) < 2:
            continue
        mean = statistics.fmean(finite)
        var = statistics.pvariance(finite)
        cvs.append(math.sqrt(var) / abs(mean) if mean else math.inf)
        means.append(mean)
        within.append(var)
    if len(means) < 2:
        return math.nan, math.nan, undefined
    w = statistics.fmean(within)
    between = statistics.pvariance(means)
    return statistics.median(cvs), (between / w if w > 0 else math.inf), undefined


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metrics", default="all")
    parser.add_argument("--archs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", required=True, help="CSV of raw scores (model_id, factor, index, metrics...)")
    parser.add_argument("--space", default="{}", help="JSON overrides of the rnn space")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    import torch

    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace
    from tfnas.data import batchify
    from tfnas.experiments.rnn_table import build_metric, metric_names
    from tfnas.metrics import Scorer

    torch.set_num_threads(args.threads)
    space = NasBenchNLPSpace(**json.loads(args.space))
    pool = dict((int(m), r) for m, r in space.benchmark().pool())
    ids = [m for m in PAPER_MODELS if m in pool] + [m for m in pool if m not in PAPER_MODELS]
    ids = ids[: args.archs]
    metrics = [build_metric(n) for n in metric_names(args.metrics)]
    keys = [m.key for m in metrics]
    columns = batchify(space.corpus.split(space.split), space.batch_size)
    T = space.seq_len
    if columns.size(0) < args.repeats * T:
        raise SystemExit(f"ablate_rnn: only {columns.size(0) // T} non-overlapping windows of {T} rows")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if out.exists():
        with open(out, newline="") as handle:
            done = {(r["model_id"], r["factor"], r["index"]) for r in csv.DictReader(handle)}
    results = {"batch": {k: {} for k in keys}, "seed": {k: {} for k in keys}}
    with open(out, "a", newline="") as handle:
        writer = csv.writer(handle)
        if not done:
            writer.writerow(["model_id", "factor", "index", *keys, "undefined"])
        for factor in ("batch", "seed"):
            for k in range(args.repeats):
                scorer = Scorer(space, metrics, seed=k if factor == "seed" else 0)
                if factor == "batch":
                    scorer.batch = columns[k * T : (k + 1) * T]
                for mid in ids:
                    if (str(mid), factor, str(k)) in done:
                        continue
                    ev = scorer(pool[mid])
                    writer.writerow([mid, factor, k, *(repr(ev.scores[key]) for key in keys), ";".join(ev.undefined)])
                    handle.flush()
                print(f"{factor} {k + 1}/{args.repeats}", file=sys.stderr, flush=True)
    with open(out, newline="") as handle:
        for row in csv.DictReader(handle):
            for key in keys:
                value = float(row[key])
                if key in row["undefined"].split(";"):
                    value = math.nan
                results[row["factor"]][key].setdefault(row["model_id"], []).append(value)
    lines = [
        f"# RNN ablation: {len(ids)} architectures x {args.repeats} non-overlapping batches / {args.repeats} seeds",
        "",
        "| metric | CV over batches | between/within (batches) | CV over seeds | between/within (seeds) | undefined |",
        "|---|---|---|---|---|---|",
    ]
    for key in keys:
        cb, rb, ub = variation(results["batch"][key])
        cs, rs, us = variation(results["seed"][key])
        lines.append(f"| {key} | {cb:.3g} | {rb:.3g} | {cs:.3g} | {rs:.3g} | {ub + us} |")
    report = "\n".join(lines)
    print(report)
    out.with_suffix(".md").write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
