"""Does an evaluation get slower as the study grows? Time a long search of cheap evaluations.

A search of `budget` architectures scored by parameter count at tiny sizes (so storage work
dominates) runs on a given storage; each evaluation's wall time (from one stored result to the
next) is recorded. Every `checkpoint` evaluations the cost of one incremental read of the
study (what the loop does per evaluation) is timed beside one full read plus a scan for a hash
(what it did before: `study.get_trials()` in `sync()` and again in `first_claimant`), so the
two are measured in the same run on the same study.
"""
from __future__ import annotations

import csv
import time
from pathlib import Path
from statistics import median

import torch

from tfnas.build import build_parts
from tfnas.config import compose
from tfnas.report.markdown import table
from tfnas.workers import search

TINY = ["metric=params", "space.model.emsize=16", "space.model.nhid=24", "space.batch_size=2", "space.seq_len=4", "search.progress=false"]


def time_search(storage: str, budget: int, run_dir: Path, checkpoint: int = 250) -> tuple[list[dict], list[dict]]:
    """(per-evaluation rows, per-checkpoint read timings) of one search on `storage`."""
    cfg = compose([*TINY, f"search.budget={budget}", f"search.storage={storage}"])
    run_dir.mkdir(parents=True, exist_ok=True)
    parts = build_parts(cfg, run_dir, torch.device("cpu"))
    store = parts.store
    rows: list[dict] = []
    reads: list[dict] = []
    last = [time.perf_counter()]

    def on_record(record) -> None:
        now = time.perf_counter()
        rows.append({"evaluation": len(rows) + 1, "seconds": now - last[0]})
        last[0] = now
        if len(rows) % checkpoint == 0:
            start = time.perf_counter()
            store.changes()
            incremental = time.perf_counter() - start
            start = time.perf_counter()
            trials = store.trials()
            store.first_claimant(record.hash, trials)
            full = time.perf_counter() - start
            reads.append({"trials": len(trials), "incremental_read_s": incremental, "full_read_s": full})
            last[0] = time.perf_counter()  # the timing itself is not charged to the next evaluation

    search(parts, cfg, on_record, progress=False)
    return rows, reads


def window_medians(rows: list[dict], window: int) -> tuple[float, float]:
    """Median seconds per evaluation over the first and the last `window` evaluations."""
    first = [r["seconds"] for r in rows[:window]]
    last = [r["seconds"] for r in rows[-window:]]
    return median(first), median(last)


def run(storages: dict[str, str], budget: int, out: Path, work: Path, window: int = 200) -> list[dict]:
    """Time each storage, write out/evaluations.csv, out/reads.csv and out/summary.md; the summary rows."""
    out.mkdir(parents=True, exist_ok=True)
    summary = []
    with open(out / "evaluations.csv", "w", newline="") as ev, open(out / "reads.csv", "w", newline="") as rd:
        ev_w = csv.DictWriter(ev, ["storage", "evaluation", "seconds"])
        rd_w = csv.DictWriter(rd, ["storage", "trials", "incremental_read_s", "full_read_s"])
        ev_w.writeheader()
        rd_w.writeheader()
        for name, storage in storages.items():
            rows, reads = time_search(storage, budget, work / name)
            ev_w.writerows({"storage": name, **r} for r in rows)
            rd_w.writerows({"storage": name, **r} for r in reads)
            start, end = window_medians(rows, window)
            summary.append({"storage": name, "evaluations": len(rows), "start_s": start, "end_s": end,
                            "incremental_read_end_s": reads[-1]["incremental_read_s"] if reads else float("nan"),
                            "full_read_end_s": reads[-1]["full_read_s"] if reads else float("nan")})
    columns = ["storage", "evaluations", f"s/eval, first {window} (median)", f"s/eval, last {window} (median)",
               "one incremental read at the end", "one full read + scan at the end"]
    rows = [[s["storage"], s["evaluations"], f"{s['start_s']:.4f}", f"{s['end_s']:.4f}", f"{s['incremental_read_end_s'] * 1e3:.2f} ms",
             f"{s['full_read_end_s'] * 1e3:.2f} ms"] for s in summary]
    (out / "summary.md").write_text(table(columns, rows) + "\n")
    return summary


def plot(out: Path, window: int = 100) -> Path:
    """Rolling median seconds per evaluation against the evaluation number, one line style per storage."""
    import numpy as np
    from matplotlib.figure import Figure

    from tfnas.report.plots import DPI, style

    series: dict[str, list[float]] = {}
    with open(out / "evaluations.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            series.setdefault(row["storage"], []).append(float(row["seconds"]))
    fig = Figure(figsize=(7.0, 4.2), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    for i, (name, seconds) in enumerate(series.items()):
        values = np.asarray(seconds)
        rolling = [np.median(values[max(0, k - window + 1) : k + 1]) for k in range(len(values))]
        st = style(i)
        ax.plot(np.arange(1, len(values) + 1), rolling, color=st["color"], linestyle=st["linestyle"], linewidth=1.6,
                marker=st["marker"], markevery=max(1, len(values) // 10), label=f"{name} storage")
    ax.set_xlabel("evaluation (trials in the study)")
    ax.set_ylabel(f"seconds per evaluation\n(rolling median of {window})")
    ax.set_ylim(bottom=0)
    fig.legend(loc="outside right upper", fontsize="small")
    ax.set_title("Cost of one evaluation as the study grows\n(metric=params at tiny sizes, one worker)", fontsize="medium")
    path = out / "seconds_per_evaluation.png"
    fig.savefig(path, dpi=DPI)
    return path
