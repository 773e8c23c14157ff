"""Compare finished runs (e.g. the jobs of a multirun sweep): strategy x metric x seed tables from summary.json."""
from __future__ import annotations

import logging
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from tfnas.report.markdown import table
from tfnas.report.run_report import PLOTS_DIR, load_json, write_report
from tfnas.results import RESULTS_FILE, SUMMARY_FILE, read_results

log = logging.getLogger("tfnas")

COMPARISON_FILE = "comparison.md"
COMPARISON_PNG = "comparison_best_so_far.png"


def find_runs(path: str | Path) -> list[Path]:
    """A run directory itself, or every run directory (one with summary.json) under a sweep directory."""
    path = Path(path)
    if (path / SUMMARY_FILE).is_file():
        return [path]
    found = [p.parent for p in path.rglob(SUMMARY_FILE) if "wandb" not in p.relative_to(path).parts]
    return sorted(found, key=_job_order)


def _job_order(run_dir: Path):
    """Multirun job folders are numbered 0, 1, ..., 10: sort them as numbers, not as text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in run_dir.parts)


def load_run(run_dir: Path) -> dict[str, Any]:
    """A run's summary, with its report built first if it never was (older runs, interrupted reports)."""
    summary = load_json(run_dir / SUMMARY_FILE)
    if "report" not in summary:
        write_report(run_dir)
        summary = load_json(run_dir / SUMMARY_FILE)
    return summary


def _seed_key(seed: Any):
    return (0, seed, "") if isinstance(seed, (int, float)) else (1, 0, str(seed))


def compare_runs(run_dirs: list[Path], out_dir: Path, progress: bool | None = None) -> Path:
    """Write OUT_DIR/comparison.md (+ a best-so-far plot per metric) comparing `run_dirs`; return its path.
    `progress=None`: a bar over the runs (each may need its report built) only on a terminal."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    bar = tqdm(run_dirs, desc="runs", unit="run", leave=False, disable=None if progress is None else not progress)
    runs = [(d, load_run(d)) for d in bar]
    lines = [f"# tfnas comparison of {len(runs)} runs", ""]

    targets = {((s.get("report") or {}).get("benchmark") or {}).get("target") for _, s in runs} - {None}
    truth = f"{targets.pop()} of best pick" if len(targets) == 1 else "benchmark result of best pick"
    per_run = []
    for d, s in runs:
        bench = (s.get("report") or {}).get("benchmark") or {}
        best = s.get("best") or {}
        per_run.append([
            _rel(d, out_dir), s.get("strategy"), s.get("metric"), s.get("seed"), s.get("evaluated"), s.get("undefined"),
            best.get("score"), best.get("hash"), bench.get("best_found_target"), _tau(bench), s.get("seconds_total"),
        ])
    lines += ["## Runs", "", table(
        ["run", "strategy", "metric", "seed", "scored", "undefined", "best score", "best hash",
         truth, "Kendall τ", "seconds"], per_run), ""]

    seeds = sorted({s.get("seed") for _, s in runs}, key=_seed_key)
    pivots = [("best score", lambda s: (s.get("best") or {}).get("score"))]
    if any((s.get("report") or {}).get("benchmark") for _, s in runs):
        pivots += [
            (f"{truth} (the metric's best labelled architecture)", lambda s: _bench(s, "best_found_target")),
            ("Kendall τ (metric vs benchmark result; 95% bootstrap CI; only with n ≥ 10)",
             lambda s: _tau((s.get("report") or {}).get("benchmark") or {})),
        ]
    pivots.append(("undefined scores", lambda s: s.get("undefined")))
    for title, value in pivots:
        cells: dict[tuple, dict] = defaultdict(dict)
        for _, s in runs:
            cells[(s.get("strategy"), s.get("metric"))][s.get("seed")] = value(s)
        rows = [[strategy, metric, *[by_seed.get(seed) for seed in seeds]] for (strategy, metric), by_seed in sorted(cells.items(), key=str)]
        lines += [f"## {title}: strategy × metric × seed", "", table(["strategy", "metric", *[f"seed {x}" for x in seeds]], rows), ""]

    png = _plot(runs, out_dir)
    if png:
        lines += ["## Best so far", "", f"![best so far]({_rel(png, out_dir)})", ""]
    path = out_dir / COMPARISON_FILE
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _tau(bench: dict[str, Any]) -> str | None:
    """τ with its interval, as one cell; None (a dash) where it was not computed (n < 10)."""
    tau = bench.get("kendall_tau")
    if tau is None:
        return None
    ci = bench.get("kendall_ci95")
    return f"{tau:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else f"{tau:+.3f}"


def _bench(summary: dict[str, Any], key: str):
    return ((summary.get("report") or {}).get("benchmark") or {}).get(key)


def _rel(path: Path, base: Path) -> str:
    return os.path.relpath(path, base)


def _plot(runs, out_dir: Path) -> Path | None:
    from tfnas.report.plots import best_so_far_series, plot_comparison

    curves: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    higher: dict[str, bool] = {}
    several_spaces = len({s.get("space") for _, s in runs}) > 1
    for d, s in runs:
        if not (d / RESULTS_FILE).exists():
            continue
        metric, hib = str(s.get("metric")), bool(s.get("higher_is_better", True))
        higher[metric] = hib
        scores = [r["score"] for r in read_results(d)]
        group = f"{s.get('space')}/{s.get('strategy')}" if several_spaces else str(s.get("strategy"))
        curves[metric][group].append(best_so_far_series(scores, hib))
    if not curves:
        return None
    (out_dir / PLOTS_DIR).mkdir(exist_ok=True)
    path = out_dir / PLOTS_DIR / COMPARISON_PNG
    try:
        plot_comparison(path, curves, higher)
    except Exception as err:  # noqa: BLE001 - the tables matter more than the plot
        log.warning("comparison: could not draw %s: %s", path.name, err)
        return None
    return path

