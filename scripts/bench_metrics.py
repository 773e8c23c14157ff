"""Seconds per architecture for each metric and for the whole suite, and the GEMM throughput reached.

    PYTHONPATH=. python scripts/bench_metrics.py --space rnn --archs 20

For each of the first --archs labelled architectures (full benchmark size by default), times
each metric alone (its own Scorer: model build + only the passes it needs + the score) and the
whole suite in one Scorer (one shared probe), and reports the median seconds per architecture.
In the same run it measures the machine's large-GEMM throughput (float32 matmul of --gemm-size
squares) and reports what fraction of it the probe's GEMM work reached (flops counted by
search_spaces/nas_bench_nlp/flops.py, over the probe time only, model build excluded).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def gemm_throughput(size: int, repeats: int = 5) -> float:
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def bench_rnn(args) -> str:
    import torch

    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace
    from tfnas.search_spaces.nas_bench_nlp.flops import probe_flops
    from tfnas.experiments.rnn_table import build_metric, metric_names
    from tfnas.metrics import Scorer

    torch.set_num_threads(args.threads)
    space = NasBenchNLPSpace()
    pool = space.benchmark().pool()[: args.archs]
    names = metric_names(args.metrics)
    metrics = {n: build_metric(n) for n in names}
    peak = gemm_throughput(args.gemm_size)
    scorers = {n: Scorer(space, [m]) for n, m in metrics.items()}
    suite = Scorer(space, [build_metric(n) for n in metric_names(args.suite)])
    batch = suite.batch
    times: dict[str, list[float]] = {n: [] for n in [*names, "suite"]}
    probe_rate: dict[str, list[float]] = {n: [] for n in [*names, "suite"]}
    for i, (model_id, recipe) in enumerate(pool, 1):
        for name, scorer in [*scorers.items(), ("suite", suite)]:
            start = time.perf_counter()
            model = space.build_model(recipe, seed=0)
            model.eval()
            built = time.perf_counter()
            probe = space.probe(model, batch, scorer.needs)
            probed = time.perf_counter()
            for metric in scorer.metrics:
                try:
                    metric.compute(probe)
                except Exception:  # undefined values are the scorer's business, not the timer's
                    pass
            end = time.perf_counter()
            times[name].append(end - start)
            flops = probe_flops(model, batch.size(1), batch.size(0), scorer.needs)
            probe_rate[name].append(flops / (probed - built) if flops else float("nan"))
        print(f"[{i}/{len(pool)}] model {model_id}: suite {times['suite'][-1]:.2f} s", file=sys.stderr, flush=True)
    lines = [
        f"# bench_metrics --space rnn: {len(pool)} labelled architectures, full size "
        f"(emsize 400, nhid 600, 3 layers, B {batch.size(1)}, T {batch.size(0)}), {args.threads} torch threads",
        f"large-GEMM throughput ({args.gemm_size}^3 float32, same run): {peak / 1e9:.1f} GFLOP/s",
        "",
        "| metric | median s/arch | max s/arch | median probe GFLOP/s | fraction of GEMM peak |",
        "|---|---|---|---|---|",
    ]
    for name in [*names, "suite"]:
        rate = statistics.median(probe_rate[name])
        label = "whole suite (one shared probe)" if name == "suite" else name
        lines.append(
            f"| {label} | {statistics.median(times[name]):.3f} | {max(times[name]):.3f} | "
            f"{rate / 1e9:.1f} | {rate / peak:.2f} |"
        )
    separate = sum(statistics.median(times[n]) for n in names)
    lines.append("")
    lines.append(f"whole suite = {len(suite.metrics)} metrics ({', '.join(suite.keys)})")
    lines.append(f"sum of the per-metric medians above (no sharing): {separate:.2f} s; whole suite: {statistics.median(times['suite']):.2f} s")
    return "\n".join(lines)


def bench_load(args) -> str:
    from tfnas.experiments.load import compare_under_load, format_rows
    from tfnas.experiments.rnn_table import build_metric, metric_names
    from tfnas.metrics import Scorer
    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace
    from tfnas.threads import usable_cores

    space = NasBenchNLPSpace()
    archs = [recipe for _, recipe in space.benchmark().pool()[: args.archs]]
    scorer = Scorer(space, [build_metric(n) for n in metric_names(args.suite)])
    fixed = tuple(int(t) for t in args.load_fixed_threads.split(",") if t.strip())
    load_before = os.getloadavg()[0]
    rows = compare_under_load(scorer, archs, args.load, fixed_threads=fixed)
    header = (f"# bench_metrics --load {args.load}: {', '.join(scorer.keys)} on {len(archs)} labelled architectures, full size; "
              f"{usable_cores()} usable cores (affinity); 1-minute load average {load_before:.1f} at the start, "
              f"{os.getloadavg()[0]:.1f} at the end (other work on the machine included)")
    return format_rows(rows, header)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    chooser = argparse.ArgumentParser(add_help=False)
    chooser.add_argument("--space", choices=["rnn", "bert"], default="rnn")
    chosen, rest = chooser.parse_known_args(argv)
    if chosen.space == "bert":  # the BERT benchmark has its own options (presets, backward target)
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_metrics_bert import main as bench_bert

        return bench_bert(rest) or 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[chooser])
    parser.add_argument("--archs", type=int, default=20)
    parser.add_argument("--metrics", default="all", help="metrics timed one by one")
    parser.add_argument("--suite", default="all", help="metrics timed together in one shared probe")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gemm-size", type=int, default=2048)
    parser.add_argument("--out", default=None, help="also write the report to this file")
    parser.add_argument("--load", type=int, default=0,
                        help="N > 0: time the --suite per architecture idle and beside N busy processes, in this run "
                             "(torch threads chosen as search.threads=null chooses them)")
    parser.add_argument("--load-fixed-threads", default="",
                        help="with --load: also time these fixed thread counts under load (comma-separated, e.g. 2)")
    args = parser.parse_args(argv)
    report = bench_load(args) if args.load > 0 else bench_rnn(args)
    print(report)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
