"""Seconds per architecture of the whole BERT metric suite, full (128 x 512) vs fast presets, the
fraction of large-GEMM throughput reached, and how well each fast preset ranks like the full one.

    python scripts/bench_metrics.py --space bert --archs 50 --out bench_bert
    python scripts/bench_metrics.py --space bert --archs 3 --presets full,32x128   # quick look

Writes <out>/<preset>.csv (id, seconds, gflop, then one column per metric; streamed, resumable:
rerunning skips ids already there) and <out>/summary.json; prints a table. Spearman per metric
is computed over the architectures scored by every preset. On a shared machine absolute times
drift: the GEMM reference is measured in the same run, before and after, and ratios are reported.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr
from torch.utils.flop_counter import FlopCounterMode

from tfnas.experiments.throughput import gemm_throughput


def gemm_gflops(n: int = 2048, reps: int = 4) -> float:
    """Throughput of a large square float32 GEMM in GFLOP/s: the machine's practical peak for this work."""
    return gemm_throughput(n, reps) / 1e9


def parse_preset(text: str) -> tuple[str, dict]:
    if text in ("full", "fast"):
        return text, {"preset": text}
    b, t = text.lower().split("x")
    return text, {"batch_size": int(b), "seq_len": int(t)}


def read_done(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    with open(path, newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def bench_bert(args) -> None:
    """Score, time and summarise; `args` as parsed by scripts/bench_metrics_bert.py."""
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace
    from tfnas.experiments.pool_scoring import build_metric
    from tfnas.experiments.rnn_table import metric_names
    from tfnas.metrics import Scorer

    metrics = [build_metric(n) for n in metric_names(getattr(args, "metrics", "paper"), "bert")]
    keys = [m.key for m in metrics]
    reference_before = gemm_gflops()
    presets = [parse_preset(p) for p in args.presets.split(",")]
    for label, kwargs in presets:
        space = NasBenchBertSpace(**kwargs, backward_target=args.backward_target)
        scorer = Scorer(space, metrics)
        pool = space.benchmark().pool()[args.offset : args.archs]
        path = out / f"{label}.csv"
        done = read_done(path)
        new = not path.exists()
        with open(path, "a", newline="") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(["id", "seconds", "gflop", *keys])
            for arch_id, arch in pool:
                if arch_id in done:
                    continue
                counter = FlopCounterMode(display=False)
                with counter:
                    evaluation = scorer(arch)
                row = [arch_id, f"{evaluation.seconds:.3f}", f"{counter.get_total_flops() / 1e9:.2f}"]
                writer.writerow(row + [repr(evaluation.scores[k]) for k in keys])
                handle.flush()
                print(f"{label} {arch_id} {evaluation.seconds:.2f}s", flush=True)
    if args.no_summary:
        return
    reference_after = gemm_gflops()
    reference = (reference_before + reference_after) / 2

    tables = {label: read_done(out / f"{label}.csv") for label, _ in presets}
    common = sorted(set.intersection(*(set(t) for t in tables.values())), key=int)
    summary = {"gemm_gflops_before": reference_before, "gemm_gflops_after": reference_after, "archs": len(common)}
    print(f"\nlarge-GEMM reference: {reference_before:.1f} GFLOPS before, {reference_after:.1f} after")
    print(f"{'preset':>10} {'s/arch mean':>12} {'s/arch max':>11} {'GFLOPS':>8} {'of GEMM':>8}")
    for label, table in tables.items():
        secs = np.array([float(table[i]["seconds"]) for i in common])
        flops = np.array([float(table[i]["gflop"]) for i in common])
        rate = flops.sum() / secs.sum() if secs.sum() else math.nan
        summary[label] = {"seconds_mean": secs.mean(), "seconds_max": secs.max(), "gflops": rate, "fraction_of_gemm": rate / reference}
        print(f"{label:>10} {secs.mean():12.2f} {secs.max():11.2f} {rate:8.1f} {rate / reference:8.2f}")
    if "full" in tables:
        print(f"\nSpearman rho vs full over {len(common)} architectures")
        for label in tables:
            if label == "full":
                continue
            rhos = {}
            for k in keys:
                full = [float(tables["full"][i][k]) for i in common]
                fast = [float(tables[label][i][k]) for i in common]
                rhos[k] = float(spearmanr(full, fast).statistic) if np.std(full) and np.std(fast) else math.nan
            summary[label]["spearman_vs_full"] = rhos
            low = {k: round(v, 3) for k, v in rhos.items() if not v >= 0.95}
            print(f"{label:>10}: min {np.nanmin(list(rhos.values())):.3f}; below 0.95: {low or 'none'}")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))

