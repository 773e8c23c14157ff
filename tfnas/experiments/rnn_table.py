"""The paper's RNN table from this project's own metrics: score recipes, stream rows, correlate, plot.

Scoring streams one CSV row per architecture (`model_id`, one column per metric key, then
`undefined` and `seconds`) and flushes it at once, so an interrupted run keeps everything scored
and a rerun skips the model ids already in the file. Architectures are spread over worker
processes with one torch thread each (on small CPUs that beats one process with many threads:
the per-step GEMMs of a recurrent cell are too small to split well).
"""
from __future__ import annotations

import csv
import math
import multiprocessing as mp
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from scipy import stats

from tfnas.errors import ConfigError

CONF_DIR = Path(__file__).resolve().parents[2] / "conf" / "metric"
# Metric configs left out of "all": normalised duplicates, and the rank average, which the report
# computes from the stored columns (ranking the scored population itself).
NOT_IN_ALL = {"activation_distance_norm", "synaptic_saliency_norm", "rank_average", "hidden_health"}  # hidden_health: a guard, not a ranking proxy
EXTRA_COLUMNS = ("undefined", "seconds")


def metric_names(spec: str | Sequence[str], space_name: str = "rnn") -> list[str]:
    """Config names from "all" or a comma-separated list (each a file of conf/metric/)."""
    available = sorted(p.stem for p in CONF_DIR.glob("*.yaml"))
    if isinstance(spec, str):
        spec = [s.strip() for s in spec.split(",") if s.strip()]
    if list(spec) == ["all"]:
        names = []
        for name in available:
            if name in NOT_IN_ALL:
                continue
            if space_name in build_metric(name).spaces:
                names.append(name)
        return names
    for name in spec:
        if name not in available:
            raise ConfigError("--metrics", f"unknown metric config {name!r}; choose from: all, {', '.join(available)}")
    return list(spec)


def build_metric(name: str):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    return instantiate(OmegaConf.load(CONF_DIR / f"{name}.yaml"))


# -- scoring -----------------------------------------------------------------------------------
_WORKER: dict = {}


def _init_worker(space_kwargs: dict, names: list[str], seed: int, threads: int) -> None:
    import torch

    from search_spaces.nas_bench_nlp import NasBenchNLPSpace
    from tfnas.metrics import Scorer

    torch.set_num_threads(threads)
    space = NasBenchNLPSpace(**space_kwargs)
    _WORKER["scorer"] = Scorer(space, [build_metric(n) for n in names], seed=seed)


def _score_one(item):
    model_id, recipe_json = item
    from search_spaces.nas_bench_nlp.recipe import Recipe

    evaluation = _WORKER["scorer"](Recipe.from_json(recipe_json))
    return model_id, evaluation.scores, evaluation.undefined, evaluation.seconds


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def score_recipes(
    recipes: dict[int, object],
    names: list[str],
    out: Path,
    space_kwargs: dict | None = None,
    workers: int = 2,
    threads: int = 1,
    seed: int = 0,
    progress=None,
) -> list[dict[str, str]]:
    """Score every recipe not yet in `out`, appending one row per architecture; return all rows."""
    space_kwargs = dict(space_kwargs or {})
    keys = [build_metric(n).key for n in names]
    header = ["model_id", *keys, *EXTRA_COLUMNS]
    out = Path(out)
    done = set()
    if out.exists() and out.stat().st_size > 0:
        with open(out, encoding="utf-8", newline="") as handle:
            existing = next(csv.reader(handle), [])
        if existing != header:
            raise ConfigError(
                "--out", f"{out} was written with columns {existing}, not {header}; pass a new --out or the same --metrics"
            )
        done = {row["model_id"] for row in read_rows(out)}
    todo = [(mid, recipe.to_json()) for mid, recipe in recipes.items() if str(mid) not in done]
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if not done:
            writer.writerow(header)
            handle.flush()
        initargs = (space_kwargs, list(names), seed, threads)
        if workers > 1 and len(todo) > 1:
            ctx = mp.get_context("spawn")
            with ctx.Pool(workers, initializer=_init_worker, initargs=initargs) as pool:
                results = pool.imap_unordered(_score_one, todo)
                _write_all(results, writer, handle, keys, progress, len(todo))
        else:
            _init_worker(*initargs)
            _write_all(map(_score_one, todo), writer, handle, keys, progress, len(todo))
    return read_rows(out)


def _write_all(results: Iterable, writer, handle, keys, progress, total) -> None:
    for i, (model_id, scores, undefined, seconds) in enumerate(results, 1):
        writer.writerow([model_id, *(repr(float(scores[k])) for k in keys), ";".join(undefined), f"{seconds:.3f}"])
        handle.flush()
        if progress:
            progress(i, total, model_id, seconds)


# -- correlations -------------------------------------------------------------------------------
def _rankable(values: np.ndarray) -> np.ndarray:
    """Replace +-inf (the flagged worst scores) by finite stand-ins beyond every defined value."""
    values = values.astype(float).copy()
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return values
    span = float(finite.max() - finite.min()) or 1.0
    values[values == np.inf] = finite.max() + span
    values[values == -np.inf] = finite.min() - span
    return values


def correlations(values: Sequence[float], target: Sequence[float]) -> dict[str, float]:
    """Kendall tau and Spearman rho (worst scores ranked last), Pearson over defined values, and n."""
    x = np.asarray(values, float)
    y = np.asarray(target, float)
    keep = ~np.isnan(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    out = {"n": int(x.size), "kendall": math.nan, "spearman": math.nan, "pearson": math.nan}
    if x.size < 3:
        return out
    ranked = _rankable(x)
    if np.ptp(ranked) > 0:
        out["kendall"] = float(stats.kendalltau(ranked, y)[0])
        out["spearman"] = float(stats.spearmanr(ranked, y)[0])
    defined = np.isfinite(x)
    if defined.sum() >= 3 and np.ptp(x[defined]) > 0:
        out["pearson"] = float(stats.pearsonr(x[defined], y[defined])[0])
    return out


def rank_average_column(rows: list[dict[str, str]], config: str = "rank_average") -> tuple[str, list[float]]:
    """The rank-average metric of `config` over the scored population itself (each row ranked among all rows)."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(CONF_DIR / f"{config}.yaml")
    cfg.reference = None
    metric = instantiate(cfg, reference=[])
    missing = [m.key for m, _, _ in metric.components if not rows or m.key not in rows[0]]
    if missing:
        raise ConfigError("--rank-average", f"its components {missing} were not scored (add them to --metrics)")
    metric = instantiate(cfg, reference=rows)
    return metric.key, [metric.combine({m.key: float(r[m.key]) for m, _, _ in metric.components}) for r in rows]


def build_table(rows: list[dict[str, str]], keys: list[str], benchmark) -> list[dict]:
    """One entry per metric: ours vs loss, published vs loss (same archs, and all 8,794), ours vs published."""
    from tfnas.benchmarks.nas_bench_nlp import PUBLISHED_COLUMNS

    published_keys = set(PUBLISHED_COLUMNS.values())
    full = benchmark.published_table()
    labelled = [(r, full.get(int(r["model_id"]))) for r in rows]
    labelled = [(r, p) for r, p in labelled if p is not None and math.isfinite(p["test_loss"])]
    loss = [p["test_loss"] for _, p in labelled]
    table = []
    for key in keys:
        ours = [float(r[key]) for r, _ in labelled]
        undefined = sum(1 for r in rows if key in r.get("undefined", "").split(";"))
        entry = {"metric": key, "undefined": undefined, "scored": len(rows), "ours": correlations(ours, loss)}
        if key in published_keys:
            pub = [p[f"published_{key}"] for _, p in labelled]
            entry["published_same"] = correlations(pub, loss)
            everyone = list(full.values())
            entry["published_all"] = correlations([p[f"published_{key}"] for p in everyone], [p["test_loss"] for p in everyone])
            defined = [(o, q) for o, q in zip(ours, pub) if math.isfinite(o) and math.isfinite(q)]
            entry["vs_published_spearman"] = (
                float(stats.spearmanr(*zip(*defined))[0]) if len(defined) >= 3 else math.nan
            )
        table.append(entry)
    return table


def format_table(table: list[dict]) -> str:
    def f(x):
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+.3f}"

    lines = [
        "| metric | n | undefined | tau (ours) | rho (ours) | r (ours) | tau (published, same) | rho (published, same) "
        "| r (published, same) | tau (published, all) | n (all) | rho ours vs published |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in table:
        o, ps, pa = e["ours"], e.get("published_same", {}), e.get("published_all", {})
        lines.append(
            f"| {e['metric']} | {o['n']} | {e['undefined']}/{e['scored']} | {f(o['kendall'])} | {f(o['spearman'])} | "
            f"{f(o['pearson'])} | {f(ps.get('kendall'))} | {f(ps.get('spearman'))} | {f(ps.get('pearson'))} | "
            f"{f(pa.get('kendall'))} | {pa.get('n', '')} | {f(e.get('vs_published_spearman'))} |"
        )
    return "\n".join(lines)


def scatter_figures(rows: list[dict[str, str]], keys: list[str], benchmark, directory: Path) -> list[Path]:
    """One PNG per metric: our score (x) against the PTB test loss (y), undefined values left out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    full = benchmark.published_table()
    paths = []
    for key in keys:
        points = []
        for r in rows:
            p = full.get(int(r["model_id"]))
            v = float(r[key])
            if p is not None and math.isfinite(p["test_loss"]) and math.isfinite(v):
                points.append((v, p["test_loss"]))
        if not points:
            continue
        x, y = np.array(points).T
        fig, ax = plt.subplots(figsize=(4.5, 3.5), dpi=120)
        if x.min() < 0 and x.max() < 0 and x.max() / x.min() < 1e-2:
            ax.set_xscale("symlog")
        elif x.min() > 0 and x.max() / x.min() > 1e3:
            ax.set_xscale("log")
        ax.scatter(x, y, s=6, alpha=0.6)
        ax.set_xlabel(key)
        ax.set_ylabel("PTB test loss")
        tau = correlations(x, y)["kendall"]
        ax.set_title(f"{key}: tau = {tau:+.3f} (n = {len(x)})")
        fig.tight_layout()
        path = directory / f"{key}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
