"""Ablations of the RNN metrics over minibatches and initialisation seeds (scripts/ablate_rnn.py).

For `archs` architectures (the paper's ablation models where recipes.json has them, then the first
labelled ones), scores each metric on `repeats` NON-overlapping minibatches (windows k*T..(k+1)*T of
the batchified split, seed 0) and with `repeats` initialisation seeds (window 0); rows are streamed to
a CSV and a rerun skips the (model, factor, index) already there. Reports per metric and factor the
median coefficient of variation over architectures and the between/within variance ratio.
"""
from __future__ import annotations

import csv
import json
import math
import statistics
import sys
from pathlib import Path

from tfnas.errors import ConfigError
from tfnas.report.markdown import table

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


def run_ablation(args) -> str:
    """Score (resumably) and return the markdown report; `args` as parsed by scripts/ablate_rnn.py."""
    import torch

    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace
    from tfnas.data import batchify
    from tfnas.experiments.pool_scoring import build_metric
    from tfnas.experiments.rnn_table import metric_names
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
        raise ConfigError("--repeats", f"only {columns.size(0) // T} non-overlapping windows of {T} rows")
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
    rows = []
    for key in keys:
        cb, rb, ub = variation(results["batch"][key])
        cs, rs, us = variation(results["seed"][key])
        rows.append([key, f"{cb:.3g}", f"{rb:.3g}", f"{cs:.3g}", f"{rs:.3g}", ub + us])
    columns = ["metric", "CV over batches", "between/within (batches)", "CV over seeds", "between/within (seeds)", "undefined"]
    title = f"# RNN ablation: {len(ids)} architectures x {args.repeats} non-overlapping batches / {args.repeats} seeds"
    report = f"{title}\n\n{table(columns, rows)}"
    out.with_suffix(".md").write_text(report + "\n", encoding="utf-8")
    return report
