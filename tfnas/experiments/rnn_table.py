"""The paper's RNN table from this project's own metrics: score recipes, stream rows, correlate, plot.

Scoring streams one CSV row per architecture (`model_id`, one column per metric key, then
`undefined` and `seconds`) and flushes it at once, so an interrupted run keeps everything scored
and a rerun skips the model ids already in the file. Architectures are spread over worker
processes with one torch thread each (on small CPUs that beats one process with many threads:
the per-step GEMMs of a recurrent cell are too small to split well).
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy import stats

from tfnas.errors import ConfigError
from tfnas.experiments.pool_scoring import EXTRA_COLUMNS, build_metric, read_rows  # noqa: F401  (re-exported)

# Metric configs left out of "all": normalised duplicates, and the rank average, which the report
# computes from the stored columns (ranking the scored population itself).
NOT_IN_ALL = {"activation_distance_norm", "synaptic_saliency_norm", "rank_average", "hidden_health"}  # hidden_health: a guard, not a ranking proxy


def metric_names(spec: str | Sequence[str], space_name: str = "rnn") -> list[str]:
    """Config names from "all", "paper" (the paper's metrics), "zoo" (the zero-cost proxies of
    tfnas.metrics.zoo) or a comma-separated list (each a config of the `metric` group). In "all" and the
    groups, aliases (synflow, nwot) are left out (their columns duplicate the originals), and so are
    `_norm` variants on the RNN space, where the paper does not use them."""
    from tfnas.config import group_options
    from tfnas.metrics.zoo import ZOO

    available = group_options("metric")
    space = _space(space_name)
    if isinstance(spec, str):
        spec = [s.strip() for s in spec.split(",") if s.strip()]
    if list(spec) in (["all"], ["paper"], ["zoo"]):
        group = spec[0]
        names = []
        for name in available:
            if name == "rank_average" or (space_name == "rnn" and name in NOT_IN_ALL):
                continue
            metric = build_metric(name)
            if not metric.applies_to(space) or getattr(metric, "alias_of", None) or metric.variant_of:
                continue  # aliases duplicate a column; a variant estimator (grasp_full) is scored on its own
            if space_name == "rnn" and getattr(metric, "normalized", False):
                continue
            in_zoo = metric.name in ZOO
            if group == "all" or (group == "zoo") == in_zoo:
                names.append(name)
        return names
    for name in spec:
        if name not in available:
            raise ConfigError("--metrics", f"unknown metric config {name!r}; choose from: all, paper, zoo, {', '.join(available)}")
    return list(spec)


def _space(space_name: str):
    """A default instance of a registered space, to ask which metrics its probe serves."""
    from tfnas.search_space import SPACES

    return SPACES.get(space_name)()


def load_recipes(path: str | None = None) -> dict[int, object]:
    """NAS-Bench-NLP recipes by model id: `path` (a recipes JSON), or the ones the space ships."""
    from tfnas.search_spaces.nas_bench_nlp.space import load_recipes as load

    return load(path)


# -- scoring (tfnas.experiments.pool_scoring) --------------------------------------------------
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
    from tfnas.experiments.pool_scoring import score_pool

    items = [(mid, recipe.to_json()) for mid, recipe in recipes.items()]
    report = (lambda i, n, mid, s, u: progress(i, n, mid, s)) if progress else None
    return score_pool("rnn", space_kwargs, names, items, out, "model_id", workers, threads, seed, progress=report)


# -- correlations -------------------------------------------------------------------------------
def correlations(values: Sequence[float], target: Sequence[float]) -> dict[str, float]:
    """Kendall tau, Spearman rho, Pearson r and n (tfnas.experiments.correlation: flagged worst scores ranked last)."""
    from tfnas.experiments.correlation import rank_correlations

    return rank_correlations(values, target)


def rank_average_column(rows: list[dict[str, str]], config: str = "rank_average") -> tuple[str, list[float]]:
    """The rank-average metric of `config` over the scored population itself (each row ranked among all rows)."""
    from hydra.utils import instantiate

    from tfnas.config import load_group_config

    cfg = load_group_config("metric", config)
    cfg.reference = None
    metric = instantiate(cfg, reference=[])
    missing = [m.key for m, _, _ in metric.components if not rows or m.key not in rows[0]]
    if missing:
        raise ConfigError("--rank-average", f"its components {missing} were not scored (add them to --metrics)")
    metric = instantiate(cfg, reference=rows)
    return metric.key, [metric.combine({m.key: float(r[m.key]) for m, _, _ in metric.components}) for r in rows]


def build_table(rows: list[dict[str, str]], keys: list[str], benchmark) -> list[dict]:
    """One entry per metric: ours vs loss, published vs loss (same archs, and all 8,794), ours vs published."""
    published_keys = set(benchmark.published_by_key)
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

    from tfnas.report.markdown import table as markdown_table

    columns = ["metric", "n", "undefined", "tau (ours)", "rho (ours)", "r (ours)", "tau (published, same)",
               "rho (published, same)", "r (published, same)", "tau (published, all)", "n (all)", "rho ours vs published"]
    rows = []
    for e in table:
        o, ps, pa = e["ours"], e.get("published_same", {}), e.get("published_all", {})
        rows.append([e["metric"], o["n"], f"{e['undefined']}/{e['scored']}", f(o["kendall"]), f(o["spearman"]), f(o["pearson"]),
                     f(ps.get("kendall")), f(ps.get("spearman")), f(ps.get("pearson")), f(pa.get("kendall")), pa.get("n", ""),
                     f(e.get("vs_published_spearman"))])
    return markdown_table(columns, rows)


def scatter_figures(rows: list[dict[str, str]], keys: list[str], benchmark, directory: Path) -> list[Path]:
    """One PNG per metric: our score (x) against the PTB test loss (y), undefined values left out; the title
    gives Kendall's tau with its 95% bootstrap interval, and a wide metric axis is symlog (and says so)."""
    from matplotlib.figure import Figure

    from tfnas.report.benchmark import kendall_with_ci
    from tfnas.report.plots import DPI, scale_axis

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
        fig = Figure(figsize=(5.6, 4.2), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        ax.scatter(x, y, s=8, alpha=0.6, color="tab:blue", edgecolor="none")
        scale_axis(ax, x, "x", f"{key} at initialisation")
        ax.set_ylabel("PTB test loss after 50 epochs (NAS-Bench-NLP)")
        tau, _, ci = kendall_with_ci(list(x), list(y))
        interval = f" [95% CI {ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""
        ax.set_title(f"{key} vs PTB test loss\nKendall τ = {tau:+.3f}{interval}, n = {len(x)}" if tau is not None
                     else f"{key} vs PTB test loss\nn = {len(x)}", fontsize="medium")
        path = directory / f"{key}.png"
        fig.savefig(path, dpi=DPI)
        paths.append(path)
    return paths


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
