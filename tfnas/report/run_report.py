"""One run's human-readable report: report.md and its PNG plots, built only from the run directory's files."""
from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from tfnas.errors import ConfigError
from tfnas.redaction import redact_text
from tfnas.report.benchmark import benchmark_truth, tau_text
from tfnas.report.markdown import fmt, table
from tfnas.results import BEST_FILE, RESULTS_FILE, SUMMARY_FILE, finite_curve_rows, read_results, write_json

log = logging.getLogger("tfnas")

REPORT_FILE = "report.md"
PLOTS_DIR = "plots"
BEST_SO_FAR_PNG = "best_so_far.png"
HISTOGRAM_PNG = "score_histogram.png"
BENCHMARK_PNG = "metric_vs_benchmark.png"
CURVES_PNG = "training_curves.png"
CURVES_CSV = "training_curves.csv"
BEST_CSV = "best.csv"
SHOWN_BEST = 10  # rows of the best-architectures table
MAX_COLUMNS = 10  # columns of the best-architectures table; best.csv has them all


def load_json(path: Path, default: Any = None) -> Any:
    """A run file's JSON (`default` when it is missing); a corrupt or non-JSON file is a ConfigError naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return default
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError("RUN_DIR", f"cannot read {path}: {getattr(err, 'strerror', None) or err}") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        where = f" ({err.msg} at line {err.lineno}, column {err.colno})" if isinstance(err, json.JSONDecodeError) else ""
        raise ConfigError("RUN_DIR", f"{path} is not valid JSON{where}; the run's files are damaged: restore the file "
                          "or run the search again (it resumes from its study)") from None
    expected = dict if default is None else type(default)  # summary.json: an object; best.json: a list
    if not isinstance(data, expected):
        raise ConfigError("RUN_DIR", f"{path} holds a JSON {type(data).__name__}, not the {expected.__name__} a tfnas run "
                          "writes there; restore the file or run the search again (it resumes from its study)")
    return data


def space_from_summary(summary: dict[str, Any]):
    """Rebuild the run's search space from the resolved config kept in summary.json (None if impossible)."""
    node = (summary.get("config") or {}).get("space")
    if not node:
        return None
    try:
        from omegaconf import OmegaConf

        from tfnas.build import build

        return build(OmegaConf.create(node), "space")
    except Exception as err:  # a report must still be written without the benchmark section
        log.warning("report: could not rebuild the search space for benchmark lookups: %s", err)
        return None


def write_report(run_dir: str | Path, space=None, progress: bool | None = None) -> Path:
    """Write RUN_DIR/report.md and RUN_DIR/plots/*.png; add a `report` section to summary.json.

    `space` saves rebuilding the search space from the config (needed for benchmark lookups).
    Plot failures are logged and noted in the report, never fatal: the run's results are already on disk.
    """
    run_dir = Path(run_dir)
    summary = load_json(run_dir / SUMMARY_FILE)
    if summary is None:
        raise FileNotFoundError(f"{run_dir / SUMMARY_FILE} not found: not a finished tfnas run directory")
    rows = read_results(run_dir) if (run_dir / RESULTS_FILE).exists() else []
    warning = missing_rows_warning(summary, rows)
    if warning:
        log.warning("report: %s", warning)
    best = load_json(run_dir / BEST_FILE, [])
    metric = summary.get("metric", "score")
    higher = bool(summary.get("higher_is_better", True))

    scores = [r["score"] for r in rows]
    undefined = [bool(r["undefined"]) or not math.isfinite(r["score"]) for r in rows]
    finite = [s for s, u in zip(scores, undefined) if not u]
    undefined_indexes = [r["index"] for r, u in zip(rows, undefined) if u]

    if space is None:
        space = space_from_summary(summary)
    bench = benchmark_truth(space, rows, higher, progress) if rows else None

    plots_dir = run_dir / PLOTS_DIR
    plots_dir.mkdir(exist_ok=True)
    plots, problems = _draw_plots(plots_dir, metric, higher, scores, undefined, finite, bench, run_dir, best)

    text = _markdown(run_dir, summary, rows, best, metric, higher, finite, undefined_indexes, bench, plots, problems)
    path = run_dir / REPORT_FILE
    path.write_text(redact_text(text), encoding="utf-8")  # a report is shared: no secret, whatever a label says

    section: dict[str, Any] = {
        "file": REPORT_FILE,
        "plots": [f"{PLOTS_DIR}/{name}" for name in plots],
        "undefined_indexes": undefined_indexes,
        "score_quantiles": _quantiles(finite),
    }
    if bench is not None:
        section["benchmark"] = {k: v for k, v in bench.items() if k != "points"}
    summary["report"] = section
    write_json(run_dir / SUMMARY_FILE, summary)
    return path


def missing_rows_warning(summary: dict[str, Any], rows: list) -> str | None:
    """A warning when results.csv holds fewer rows than the run scored (a file cut or edited since)."""
    evaluated = summary.get("evaluated")
    if not isinstance(evaluated, int) or len(rows) >= evaluated:
        return None
    return (
        f"{RESULTS_FILE} holds {len(rows)} row(s) but the run scored {evaluated} (summary.json): the file was cut or "
        "edited after the run, so this report covers only part of it. The study still holds every evaluation: run the "
        "search again with the same settings and run directory to rewrite the file."
    )


def _draw_plots(plots_dir, metric, higher, scores, undefined, finite, bench, run_dir, best) -> tuple[list[str], list[str]]:
    import tfnas.report.plots as P

    jobs = [
        (BEST_SO_FAR_PNG, lambda p: P.plot_best_so_far(p, scores, undefined, higher, metric)),
        (HISTOGRAM_PNG, lambda p: P.plot_histogram(p, finite, sum(undefined), metric)),
    ]
    if bench is not None:
        usable = [p for p in bench["points"] if not p["undefined"] and math.isfinite(p["target"])]
        if len(usable) >= 2:
            title = tau_text(bench, metric)
            if bench["excluded_undefined"]:
                title += f"; {bench['excluded_undefined']} undefined excluded"
            jobs.append(
                (BENCHMARK_PNG, lambda p: P.plot_benchmark(
                    p, [q["score"] for q in usable], [q["target"] for q in usable], metric, bench["target"], title))
            )
    curves = _read_curves(run_dir / CURVES_CSV, best)
    if curves:
        jobs.append((CURVES_PNG, lambda p: P.plot_training_curves(p, *curves)))
    for stale in (BEST_SO_FAR_PNG, HISTOGRAM_PNG, BENCHMARK_PNG, CURVES_PNG):  # a rebuilt report never shows an old plot
        (plots_dir / stale).unlink(missing_ok=True)
    drawn, problems = [], []
    for name, draw in jobs:
        if not scores:
            break
        try:
            draw(plots_dir / name)
            drawn.append(name)
        except Exception as err:  # noqa: BLE001 - a plot must never cost the report
            log.warning("report: could not draw %s: %s", name, err)
            problems.append(f"{name}: {err}")
    return drawn, problems


def _read_curves(path: Path, best: list[dict[str, Any]]):
    """training_curves.csv (hash, search_rank, step, seconds, name, value) as candidate -> name -> [(step, value)],
    with legend labels `#final rank hash` (final rank from best.json), and the step each diverged training stopped
    at (a diverged candidate is drawn even when it logged no finite value)."""
    if not path.exists():
        return None
    curves: dict[str, dict[str, list]] = {}
    for row in finite_curve_rows(path):
        curves.setdefault(row["hash"], {}).setdefault(row["name"], []).append((row["step"], row["value"]))
    diverged = {e["hash"]: step for e in best if (step := _diverged_step(e)) is not None}
    for candidate in diverged:
        curves.setdefault(candidate, {})
    if not curves:
        return None
    rank = {e.get("hash"): e.get("rank") for e in best}
    labels = {h: f"#{rank.get(h, '?')} {h[:8]}" for h in curves}
    return dict(sorted(curves.items(), key=lambda kv: rank.get(kv[0]) or 10**9)), labels, diverged


def _diverged_step(entry: dict[str, Any]) -> int | None:
    """The step a shortlisted candidate's training diverged at (its error names it), or None."""
    if entry.get("train_status") != "failed" or "diverged" not in str(entry.get("train_error") or ""):
        return None
    said = re.search(r"at step (\d+)", str(entry["train_error"]))
    return int(said.group(1)) if said else int(entry.get("train_steps") or 0) + 1


def _quantiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    q = np.percentile(np.asarray(values, dtype=float), [0, 25, 50, 75, 100])
    return {"min": float(q[0]), "q25": float(q[1]), "median": float(q[2]), "q75": float(q[3]), "max": float(q[4]),
            "mean": float(np.mean(values)), "std": float(np.std(values))}


def _flat(entry: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "arch" and not prefix:
            continue
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}/"))
        elif isinstance(value, (list, tuple)):
            out[f"{prefix}{key}"] = json.dumps(value)
        else:
            out[f"{prefix}{key}"] = value
    return out


def _markdown(run_dir, summary, rows, best, metric, higher, finite, undefined_indexes, bench, plots, problems) -> str:
    out = [f"# tfnas report: {summary.get('space')} / {summary.get('strategy')} / {metric}", ""]
    warning = missing_rows_warning(summary, rows)
    if warning:
        out += [f"**Warning:** {warning}", ""]
    out += _overview(run_dir, summary, rows, metric, higher, undefined_indexes)
    out += _best_section(run_dir, best, metric, bench)
    out += _distribution_section(finite, undefined_indexes, plots)
    out += ["## Search progress", ""]
    if BEST_SO_FAR_PNG in plots:
        out += [f"![best so far vs evaluations]({PLOTS_DIR}/{BEST_SO_FAR_PNG})", ""]
    if bench is not None:
        out += _benchmark_section(bench, metric, higher, plots)
    if CURVES_PNG in plots:
        out += ["## Training curves", "", f"From `{CURVES_CSV}` (one line per trained candidate, labelled by final rank).", "",
                f"![training curves]({PLOTS_DIR}/{CURVES_PNG})", ""]
    out += _files_section(run_dir, problems)
    return "\n".join(out)


def _overview(run_dir, summary, rows, metric, higher, undefined_indexes) -> list[str]:
    direction = "higher is better" if higher else "lower is better"
    seconds = summary.get("seconds_total")
    median = summary.get("seconds_per_arch_median")
    overview = [
        ("space", summary.get("space")),
        ("strategy", summary.get("strategy")),
        ("metric", f"{metric} ({direction})"),
        ("seed", summary.get("seed")),
        ("device", summary.get("device")),
        ("budget", summary.get("budget")),
        ("scored", len(rows)),
        ("undefined scores", f"{len(undefined_indexes)} of {len(rows)}"),
        ("duplicates proposed (not re-scored)", summary.get("duplicates_proposed")),
        ("time", f"{fmt(seconds, 4)} s total, {fmt(median, 3)} s median per architecture" if seconds is not None else None),
    ]
    if summary.get("stopped_early"):
        overview.append(("stopped early", summary["stopped_early"]))
    return [table(["run", run_dir.name], overview), ""]


def _best_section(run_dir, best, metric, bench) -> list[str]:
    out = ["## Best architectures", ""]
    if not best:
        return out + ["No architecture was scored.", ""]
    shown = best[:SHOWN_BEST]
    truth = {p["hash"]: p["target"] for p in (bench or {}).get("points", [])}
    flat = [_flat(entry) for entry in best]
    if truth:
        for entry in flat:
            entry[f"{bench['target']} (benchmark)"] = truth.get(entry.get("hash"))
    columns: list[str] = []
    for entry in flat:
        columns += [k for k in entry if k not in columns]
    _write_csv(run_dir / BEST_CSV, columns, flat)
    picked = _table_columns(columns, flat[: len(shown)], bench)
    out += [table(picked, [[e.get(c) for c in picked] for e in flat[: len(shown)]]), ""]
    if len(picked) < len(columns):
        out += [f"{len(picked)} of {len(columns)} columns; all of them, for all {len(best)} entries, are in `{BEST_CSV}`.", ""]
    return out + [f"Best architecture ({shown[0].get('hash')}, {metric} = {fmt(shown[0].get('score'))}):", "",
                  "```json", json.dumps(shown[0].get("arch"), indent=1), "```", ""]


def _distribution_section(finite, undefined_indexes, plots) -> list[str]:
    out = ["## Score distribution", ""]
    quant = _quantiles(finite)
    if quant:
        out += [table(list(quant), [[quant[k] for k in quant]]), ""]
    out.append(f"{len(finite)} defined scores; **{len(undefined_indexes)} undefined** (NaN/inf from the metric: "
               "given the worst value, never ranked best, and left out of the histogram and of Kendall's τ).")
    if undefined_indexes:
        listed = ", ".join(str(i) for i in undefined_indexes[:50]) + (" …" if len(undefined_indexes) > 50 else "")
        out.append(f"Undefined at evaluation index: {listed}.")
    out.append("")
    if HISTOGRAM_PNG in plots:
        out += [f"![score histogram]({PLOTS_DIR}/{HISTOGRAM_PNG})", ""]
    return out


def _benchmark_section(bench, metric, higher, plots) -> list[str]:
    target = bench["target"]
    better = "higher" if bench["target_higher_is_better"] else "lower"
    out = [f"## Against the benchmark ({bench['name']}: {target}, {better} is better)", ""]
    out.append(f"{bench['matched']} of {bench['scored']} scored architectures are labelled by the benchmark"
               f" ({bench['excluded_undefined']} of them with an undefined score, excluded from τ).")
    out.append(tau_text(bench, metric) + (f", p = {fmt(bench['kendall_p'], 3)}" if bench.get("kendall_p") is not None else "") + ".")
    if bench["kendall_tau"] is not None:
        good = "negative" if higher != bench["target_higher_is_better"] else "positive"
        out.append(f"A useful metric has a {good} τ here; the interval is a 95% percentile bootstrap over the labelled pairs.")
    if bench.get("best_found_target") is not None:
        out.append(f"The metric's best labelled pick has {target} = {fmt(bench['best_found_target'])}; "
                   f"the best labelled architecture scored has {fmt(bench['best_in_matched_target'])}.")
    out.append("")
    if BENCHMARK_PNG in plots:
        out += [f"![{metric} vs {target}]({PLOTS_DIR}/{BENCHMARK_PNG})", ""]
    return out


def _files_section(run_dir, problems) -> list[str]:
    from tfnas.tracking.wandb_offline import find_offline_runs

    out = ["## Files", ""]
    out.append(f"- `{RESULTS_FILE}`: every scored architecture (score, all metric values, seconds, architecture JSON)")
    out.append(f"- `{BEST_FILE}`, `{SUMMARY_FILE}`: the shortlist and the run's summary; `{BEST_CSV}`: the shortlist with every column")
    for folder in find_offline_runs(run_dir / "wandb") if (run_dir / "wandb").is_dir() else []:
        rel = folder.relative_to(run_dir)
        out.append(f"- `{rel}`: W&B offline run; upload with `wandb sync {folder}`")
    if problems:
        out += ["", "Plots that could not be drawn: " + "; ".join(problems)]
    out.append("")
    return out


def _table_columns(columns: list[str], rows: list[dict[str, Any]], bench) -> list[str]:
    """At most MAX_COLUMNS: rank, hash, score, what training or the benchmark said, then the readable fields.
    Columns empty in every shown row, and the published metric values the benchmark carries, are left to the CSV."""
    def filled(c):
        return any(r.get(c) is not None for r in rows)

    first = ["rank", "search_rank", "hash", "score", "train_status", "trained_result"]
    if bench is not None:
        first.append(f"{bench['target']} (benchmark)")
    first += [c for c in columns if c.startswith("benchmark_") and not c.startswith("benchmark_published")][:2]
    rest = [c for c in columns if c not in first and "/" not in c and not c.startswith(("benchmark_", "train_", "last_"))
            and c != "undefined"]
    picked = [c for c in first + rest if c in columns and filled(c)]
    if any(r.get("undefined") for r in rows):
        picked.insert(min(4, len(picked)), "undefined")
    return picked[:MAX_COLUMNS]


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
