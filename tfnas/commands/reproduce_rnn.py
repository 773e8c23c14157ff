"""Reproduce the paper's RNN table with this project's metrics.

    tfnas reproduce rnn --metrics hidden_cov --out runs/rnn_hidden_cov.csv
    tfnas reproduce rnn --metrics all --out runs/rnn_all.csv --figures runs/figures

Scores the 275 labelled NAS-Bench-NLP architectures (or any file in recipes.json format given
with --recipes), streaming `model_id,<metric>,...,undefined,seconds` rows to --out (a rerun skips
ids already there). Then prints (and writes next to --out as .md) Kendall tau / Spearman rho /
Pearson r against the PTB test loss, ours beside the published values on the same architectures
and the published values on all 8,794, plus the Spearman rho between our and the published
per-architecture values, and the number of undefined (flagged, worst-scored) values per metric.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tfnas.errors import TfnasError
from tfnas.experiments.script import json_object
from tfnas.threads import clamp_threads


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="tfnas reproduce rnn", description=__doc__.split("\n\n")[0])
    parser.add_argument("--metrics", default="hidden_cov", help='"all" or a comma-separated list of conf/metric names')
    parser.add_argument("--recipes", default=None, help="recipes file in recipes.json format (default: the shipped one)")
    parser.add_argument("--out", required=True, help="CSV of scores (appended to; a rerun skips scored ids)")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N architectures")
    parser.add_argument("--labelled-only", action=argparse.BooleanOptionalAction, default=True,
                        help="keep only recipes with a published PTB loss (default on)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (1 torch thread each by default)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figures", default=None, help="directory for PNG scatter plots (metric vs loss)")
    parser.add_argument("--report", default=None, help="markdown report (default: --out with .md)")
    parser.add_argument("--space", default="{}", help='JSON overrides of the rnn space, e.g. \'{"batch_size": 8}\'')
    parser.add_argument("--rank-average", default="rank_average",
                        help="conf/metric name of a rank-average config reported beside the single metrics ('' to skip)")
    args = parser.parse_args(argv)
    args.workers, args.threads = clamp_threads(args.workers, args.threads)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from tfnas.experiments import rnn_table as rt
    from tfnas.search_space import SPACES

    recipes = rt.load_recipes(args.recipes)  # first: a broken file is reported before any work
    space_kwargs = json_object(args.space, "--space")
    space = SPACES.get("rnn")(**space_kwargs)
    benchmark = space.benchmark()
    names = rt.metric_names(args.metrics)
    keys = [rt.build_metric(n).key for n in names]
    if args.labelled_only:
        recipes = {mid: r for mid, r in recipes.items() if benchmark.query_id(mid) is not None}
    if args.limit is not None:
        recipes = dict(list(recipes.items())[: args.limit])
    out = Path(args.out)
    start = time.perf_counter()

    def progress(i, total, model_id, seconds):  # one line per cell in logs; a terminal gets the progress bar
        if not sys.stderr.isatty():
            print(f"[{i}/{total}] model {model_id}: {seconds:.2f} s", file=sys.stderr, flush=True)

    rows = rt.score_recipes(recipes, names, out, space_kwargs, args.workers, args.threads, args.seed, progress)
    wanted = {str(m) for m in recipes}
    rows = [r for r in rows if r["model_id"] in wanted]
    elapsed = time.perf_counter() - start

    report_keys = list(keys)
    if args.rank_average:
        try:
            key, column = rt.rank_average_column(rows, args.rank_average)
        except TfnasError as err:
            print(f"rank average skipped: {err}", file=sys.stderr)
        else:
            for row, value in zip(rows, column):
                row[key] = repr(value)
            report_keys.append(key)
    table = rt.build_table(rows, report_keys, benchmark)
    undefined_total = sum(e["undefined"] for e in table)
    text = [
        f"# RNN table: {len(rows)} architectures ({args.recipes or 'shipped recipes.json'}), metrics {', '.join(keys)}",
        "",
        rt.format_table(table),
        "",
        f"Undefined values (scored worst, flagged): {undefined_total} in all.",
        "Rank average: ranks each architecture among the scored set (see tfnas/metrics/rank_average.py).",
        f"Wall time of this run: {elapsed:.1f} s.",
    ]
    if args.figures:
        paths = rt.scatter_figures(rows, report_keys, benchmark, Path(args.figures))
        text.append(f"Figures: {', '.join(str(p) for p in paths)}")
    report = "\n".join(text)
    print(report)
    Path(args.report or out.with_suffix(".md")).write_text(report + "\n", encoding="utf-8")
    return 0

