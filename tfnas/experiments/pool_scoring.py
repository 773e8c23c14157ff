"""Score a pool of architectures with several metrics into a CSV, resumably: the one scorer behind
the reproduction and ablation scripts.

One row per architecture (`<id column>`, one column per metric key, `undefined`: the keys whose
value was undefined and stored as the worst score, `seconds`), written and flushed as soon as it is
scored, so an interrupted run keeps everything scored and a rerun skips the ids already in the file.
A file written with other metric columns is refused (ConfigError naming --out) rather than mixed.
Every metric is built and checked against the space and its metric batch (ConfigError) before the
file is opened. Architectures can be spread over worker processes with one torch thread each (on
small CPUs that beats one process with many threads for the small per-step GEMMs of an RNN).
"""
from __future__ import annotations

import csv
import multiprocessing as mp
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from tfnas.errors import ConfigError

EXTRA_COLUMNS = ("undefined", "seconds")
_WORKER: dict = {}


def build_metric(name: str):
    """The metric of the config `metric/<name>` (built-in or a plug-in's)."""
    from hydra.utils import instantiate

    from tfnas.config import load_group_config

    return instantiate(load_group_config("metric", name))


def build_scorer(space_name: str, space_kwargs: dict, names: Sequence[str], seed: int = 0, device: str = "cpu"):
    """(space, Scorer) for conf/metric names on a registered space; raises ConfigError for bad input."""
    from tfnas.search_space import SPACES
    from tfnas.metrics import Scorer

    space = SPACES.get(space_name)(**space_kwargs)
    return space, Scorer(space, [build_metric(n) for n in names], device=device, seed=seed)


def _init_worker(space_name: str, space_kwargs: dict, names: list[str], seed: int, threads: int, device: str) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)
    _WORKER["space"], _WORKER["scorer"] = build_scorer(space_name, space_kwargs, names, seed, device)


def _score_one(item):
    arch_id, arch_json = item
    evaluation = _WORKER["scorer"](_WORKER["space"].from_json(arch_json))
    return arch_id, evaluation.scores, evaluation.undefined, evaluation.seconds


def read_rows(path: Path) -> list[dict[str, str]]:
    path = Path(path)
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def score_pool(
    space_name: str,
    space_kwargs: dict | None,
    names: Sequence[str],
    items: Sequence[tuple[Any, Any]],
    out: Path | str,
    id_column: str = "id",
    workers: int = 1,
    threads: int = 1,
    seed: int = 0,
    device: str = "cpu",
    progress: Callable | None = None,
) -> list[dict[str, str]]:
    """Score every (id, architecture JSON) of `items` not yet in `out`; return all rows of `out`.

    A file in the older layout without the `undefined`/`seconds` columns is continued in that layout.
    """
    space_kwargs = dict(space_kwargs or {})
    space, scorer = build_scorer(space_name, space_kwargs, names, seed, device)  # refuses bad input first
    keys = scorer.keys
    header = [id_column, *keys, *EXTRA_COLUMNS]
    out = Path(out)
    done: set[str] = set()
    extras = True
    if out.exists() and out.stat().st_size > 0:
        with open(out, encoding="utf-8", newline="") as handle:
            existing = next(csv.reader(handle), [])
        if existing == header[: 1 + len(keys)]:
            extras = False
        elif existing != header:
            raise ConfigError(
                "--out", f"{out} was written with columns {existing}, not {header}; pass a new --out or the same --metrics"
            )
        done = {row[id_column] for row in read_rows(out)}
    todo = [(str(i), arch) for i, arch in items if str(i) not in done]
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if not done:
            writer.writerow(header)
            handle.flush()
        if workers > 1 and len(todo) > 1:
            initargs = (space_name, space_kwargs, list(names), seed, threads, device)
            with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=initargs) as pool:
                _write_all(pool.imap_unordered(_score_one, todo), writer, handle, keys, extras, progress, len(todo))
        else:
            _WORKER["space"], _WORKER["scorer"] = space, scorer
            _write_all(map(_score_one, todo), writer, handle, keys, extras, progress, len(todo))
    return read_rows(out)


def _write_all(results: Iterable, writer, handle, keys, extras: bool, progress, total) -> None:
    """Stream rows as they arrive, with a tqdm bar and time estimate on a terminal (none in logs)."""
    from tqdm.auto import tqdm

    for i, (arch_id, scores, undefined, seconds) in enumerate(tqdm(results, total=total, desc="score", unit="arch", disable=None), 1):
        row = [arch_id, *(repr(float(scores[k])) for k in keys)]
        if extras:
            row += [";".join(undefined), f"{seconds:.3f}"]
        writer.writerow(row)
        handle.flush()
        if progress:
            progress(i, total, arch_id, seconds, undefined)
