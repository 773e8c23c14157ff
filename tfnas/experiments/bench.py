"""Seconds per architecture of the RNN metrics, alone and sharing one probe, side by side in one run
(scripts/bench_metrics.py --space rnn).

For each of the first `archs` labelled NAS-Bench-NLP architectures (full benchmark size unless the
space is overridden), times in turn: each metric of `metrics` alone (its own Scorer: model build, only
the passes it needs, the score), every group of `groups` in one shared probe (by default the paper's
whole suite and the zero-cost proxy zoo, with and without grasp), and reports medians, the per-
architecture ratio of each group to the first one, and the GEMM throughput reached (flops counted by
search_spaces/nas_bench_nlp/flops.py over the probe time of the paper's passes). The machine's
large-GEMM throughput and load average are measured in the same run.
"""
from __future__ import annotations

import statistics
import sys
import time
from typing import Sequence

from tfnas.experiments.throughput import gemm_throughput, machine_load
from tfnas.report.markdown import table


def _time(space, scorer, recipe, batch) -> tuple[float, float, float]:
    """(total seconds, probe seconds, flops of the paper's passes) of one scorer on one architecture."""
    from tfnas.search_spaces.nas_bench_nlp.flops import probe_flops

    start = time.perf_counter()
    model = space.build_model(recipe, seed=scorer.seed)
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
    return end - start, probed - built, probe_flops(model, batch.size(1), batch.size(0), scorer.needs)


def bench_rnn(
    archs: int, metrics: Sequence[str], groups: dict[str, Sequence[str]], threads: int = 1,
    gemm_size: int = 2048, space_kwargs: dict | None = None, log=sys.stderr,
) -> str:
    import torch

    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace
    from tfnas.experiments.pool_scoring import build_metric
    from tfnas.metrics import Scorer

    torch.set_num_threads(threads)
    space = NasBenchNLPSpace(**(space_kwargs or {}))
    pool = space.benchmark().pool()[:archs]
    load_before = machine_load()
    peak = gemm_throughput(gemm_size)
    scorers = {n: Scorer(space, [build_metric(n)]) for n in metrics}
    scorers.update({f"group:{g}": Scorer(space, [build_metric(n) for n in names]) for g, names in groups.items()})
    batch = next(iter(scorers.values())).batch
    times = {name: [] for name in scorers}
    rates = {name: [] for name in scorers}
    from tqdm.auto import tqdm

    for i, (model_id, recipe) in enumerate(tqdm(pool, desc="bench", unit="arch", disable=None), 1):  # a bar on a terminal
        for name, scorer in scorers.items():
            total, probe_s, flops = _time(space, scorer, recipe, batch)
            times[name].append(total)
            rates[name].append(flops / probe_s if flops else float("nan"))
        summary = ", ".join(f"{g} {times[f'group:{g}'][-1]:.2f} s" for g in groups)
        print(f"[{i}/{len(pool)}] model {model_id}: {summary}", file=log, flush=True)
    first = f"group:{next(iter(groups))}" if groups else None
    lines = [
        f"# bench_metrics --space rnn: {len(pool)} labelled architectures (emsize {space.model_kwargs.get('emsize', 400)}, "
        f"nhid {space.model_kwargs.get('nhid', 600)}, B {batch.size(1)}, T {batch.size(0)}), {threads} torch thread(s)",
        f"large-GEMM throughput ({gemm_size}^3 float32, same run): {peak / 1e9:.1f} GFLOP/s; "
        f"{load_before} at the start, {machine_load()} at the end",
        "",
    ]
    rows = []
    for name in scorers:
        label = f"**{name[6:]}** ({len(scorers[name].metrics)} metrics, one shared probe)" if name.startswith("group:") else name
        ratio = statistics.median(a / b for a, b in zip(times[name], times[first])) if first else float("nan")
        rate = statistics.median(rates[name])
        rows.append([label, f"{statistics.median(times[name]):.3f}", f"{max(times[name]):.3f}", f"{ratio:.2f}", f"{rate / 1e9:.1f}"])
    columns = ["metric or group", "median s/arch", "max s/arch", "median ratio to the first group (per arch)",
               "median GFLOP/s of the paper's passes"]
    lines += [table(columns, rows), ""]
    for group, names in groups.items():
        lines.append(f"{group}: {', '.join(scorers[f'group:{group}'].keys)}")
    return "\n".join(lines)
