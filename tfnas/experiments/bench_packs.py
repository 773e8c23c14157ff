"""Scoring throughput with search.eval_batch = 1, 8, 32, ... and model build times, each measured side by side in one run.

`tfnas bench --eval-batch 1,8,32`: architectures per second of `Scorer.score_many` in batches of each size (packs,
where the space packs the metrics' needs) against one-at-a-time scoring (`Scorer.__call__`), over the first
--archs labelled architectures of the space's benchmark. Every configuration scores the same architectures in each
of --rounds rounds, in rotated order, so load on a shared machine falls on all of them alike; the report gives the
median over rounds and says whether every batch size's scores equal one-at-a-time's.

`tfnas bench --build-time`: milliseconds per architecture of three builds of the same untrained model, interleaved
per architecture: the build before per-parameter streams (torch's global generator, the whole model initialised on
the CPU, then copied to the device), a fresh `build_model` (every part drawn on the device), and the scorer's
builder (`space.model_builder`: the shared parts built once, then only the architecture's own part).
"""
from __future__ import annotations

import math
import statistics
import sys
import time
from typing import Callable, Sequence

from tfnas.experiments.throughput import machine_load
from tfnas.report.markdown import table

#: per space: the build before per-parameter streams, `legacy(space, arch, seed, device)`
LEGACY_BUILDS = {
    "rnn": "tfnas.search_spaces.nas_bench_nlp.build:legacy_build",
    "bert": "tfnas.search_spaces.nas_bench_bert.build:legacy_build",
}


def _timer(device) -> Callable[[], float]:
    """A clock that first waits for the device's queued work (CUDA runs asynchronously)."""
    import torch

    if torch.device(device).type == "cuda":
        return lambda: (torch.cuda.synchronize(device), time.perf_counter())[1]
    return time.perf_counter


def labelled(space, count: int) -> list:
    pool = space.benchmark().pool()
    return [arch for _, arch in pool[:count]]


def count_kernels(work: Callable[[], object]) -> int:
    """How many operators `work` dispatches that compute something (views and allocations left out): on a GPU each
    is at least one kernel launch, so on the CPU this counts the launches a GPU run would make."""
    from torch.utils._python_dispatch import TorchDispatchMode  # torch's dispatch-level hook (no public equivalent)

    class Counter(TorchDispatchMode):
        count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if not func.is_view and func.overloadpacket.__name__ not in NO_KERNEL:
                Counter.count += 1
            return func(*args, **(kwargs or {}))

    with Counter():
        work()
    return Counter.count


NO_KERNEL = frozenset({"empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "lift_fresh", "detach",
                       "_local_scalar_dense", "sym_size", "sym_stride", "sym_numel", "is_same_size"})


def bench_eval_batch(space, metrics: Sequence, archs: Sequence, sizes: Sequence[int], device: str = "cpu",
                     rounds: int = 3, seed: int = 0, log=sys.stderr, kernels: bool = False) -> str:
    """The report of `tfnas bench --eval-batch` (see the module docstring); with `kernels`, also the operators
    dispatched per architecture (count_kernels), counted in one more pass over the first max(sizes) architectures."""
    from tfnas.metrics import Scorer

    clock = _timer(device)
    single = Scorer(space, metrics, device=device, seed=seed, pack=False)
    batched = Scorer(space, metrics, device=device, seed=seed)
    single(archs[0])  # warm-up: data, kernels, caches
    configs: dict[str, Callable[[], list]] = {"one at a time": lambda: [single(a) for a in archs]}
    for size in sizes:
        configs[f"eval_batch={size}"] = lambda size=size: [e for i in range(0, len(archs), size)
                                                           for e in batched.score_many(archs[i: i + size])]
    seconds: dict[str, list[float]] = {name: [] for name in configs}
    scores: dict[str, list] = {}
    names = list(configs)
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            start = clock()
            evaluations = configs[name]()
            seconds[name].append(clock() - start)
            scores.setdefault(name, evaluations)
            print(f"round {r + 1}/{rounds}: {name} {len(archs) / seconds[name][-1]:.2f} archs/s", file=log, flush=True)
    reference = statistics.median(seconds["one at a time"])
    counted = {}
    if kernels:
        first = archs[: max(sizes)]
        counted["one at a time"] = count_kernels(lambda: [single(a) for a in first]) / len(first)
        for size in sizes:
            counted[f"eval_batch={size}"] = count_kernels(
                lambda size=size: [batched.score_many(first[i: i + size]) for i in range(0, len(first), size)]) / len(first)
    rows = []
    for name in names:
        median = statistics.median(seconds[name])
        rows.append([name, f"{len(archs) / median:.2f}", f"{1000 * median / len(archs):.1f}", f"{reference / median:.2f}",
                     _agreement(scores["one at a time"], scores[name])] + ([f"{counted[name]:.0f}"] if kernels else []))
    head = (f"# tfnas bench --space {space.name} --eval-batch {','.join(map(str, sizes))}: {len(archs)} labelled architectures, "
            f"{len(metrics)} metric(s) ({', '.join(m.key for m in metrics)}), device {device}, packs "
            f"{'on' if batched.pack else 'off (the space does not pack these needs)'}")
    columns = ["scoring", "archs/s", "ms/arch", "speed-up over one at a time", "scores vs one at a time"]
    columns += ["operators dispatched per arch (GPU kernel launches)"] if kernels else []
    return "\n".join([head, _machine_line(device, rounds), "", table(columns, rows)])


def _agreement(reference: list, evaluations: list) -> str:
    """'equal bit for bit', or the largest relative difference over every metric of every architecture."""
    worst = 0.0
    for a, b in zip(reference, evaluations):
        for key, value in a.scores.items():
            other = b.scores[key]
            if value == other or (math.isnan(value) and math.isnan(other)):
                continue
            worst = max(worst, abs(value - other) / max(abs(value), abs(other), 1e-300))
    return "equal bit for bit" if worst == 0 else f"max relative difference {worst:.1e}"


def _machine_line(device: str, rounds: int) -> str:
    import torch

    where = torch.cuda.get_device_name(device) if torch.device(device).type == "cuda" else "CPU"
    return (f"{where}, {torch.get_num_threads()} torch thread(s), torch {torch.__version__}; median of {rounds} rounds "
            f"(rotated order); {machine_load()}")


def bench_build_time(space, archs: Sequence, device: str = "cpu", seed: int = 0, log=sys.stderr) -> str:
    """The report of `tfnas bench --build-time` (see the module docstring)."""
    from importlib import import_module

    module, _, name = LEGACY_BUILDS[space.name].partition(":")
    legacy = getattr(import_module(module), name)
    clock = _timer(device)
    builder = space.model_builder(seed, device)
    builds = {
        "before: global generator, whole model on the CPU, copied to the device": lambda a: legacy(space, a, seed, device),
        "build_model: every part drawn on the device": lambda a: space.build_model(a, seed=seed, device=device),
        "scorer's builder: shared parts once, then the architecture's own part": builder,
    }
    for build in builds.values():  # warm-up (and the builder's shared parts, built once per scorer)
        build(archs[0])
    times: dict[str, list[float]] = {label: [] for label in builds}
    for i, arch in enumerate(archs):
        for label, build in builds.items():
            start = clock()
            model = build(arch)
            times[label].append(clock() - start)
            del model
        print(f"[{i + 1}/{len(archs)}] " + ", ".join(f"{1000 * t[-1]:.1f} ms" for t in times.values()), file=log, flush=True)
    first = list(times.values())[0]
    rows = [[label, f"{1000 * statistics.median(t):.1f}", f"{statistics.median(a / b for a, b in zip(first, t)):.2f}"]
            for label, t in times.items()]
    head = f"# tfnas bench --space {space.name} --build-time: {len(archs)} labelled architectures, device {device}"
    return "\n".join([head, _machine_line(device, 1).split(";")[0] + f"; {machine_load()}", "",
                      table(["build", "median ms/arch", "speed-up over before (median per architecture)"], rows)])
