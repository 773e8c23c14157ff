"""The files a search writes into its run directory, streamed so an interrupted run keeps what it scored."""
from __future__ import annotations

import csv
import fcntl
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

RESULTS_FILE = "results.csv"
BEST_FILE = "best.json"
SUMMARY_FILE = "summary.json"


@dataclass
class Record:
    """One scored architecture as it appears in results.csv."""

    index: int
    hash: str
    score: float
    undefined: bool
    seconds: float
    metrics: dict[str, float]
    arch: Any

    def row(self, metric_keys: Iterable[str]) -> dict[str, Any]:
        row = {
            "index": self.index,
            "hash": self.hash,
            "score": _fmt(self.score),
            "undefined": int(self.undefined),
            "seconds": f"{self.seconds:.4f}",
        }
        row.update({key: _fmt(self.metrics[key]) for key in metric_keys})
        row["arch"] = json.dumps(self.arch, separators=(",", ":"))
        return row


def _fmt(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else ("inf" if value > 0 else "-inf")


class ResultsWriter:
    """Appends one row per scored architecture to results.csv and flushes it at once."""

    def __init__(self, run_dir: Path, metric_keys: list[str]):
        self.path = Path(run_dir) / RESULTS_FILE
        self.metric_keys = metric_keys
        self.fields = ["index", "hash", "score", "undefined", "seconds", *metric_keys, "arch"]
        new = not self.path.exists()
        self._handle = open(self.path, "a", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._handle, fieldnames=self.fields)
        if new:
            self._writer.writeheader()
            self._handle.flush()

    def write(self, record: Record) -> None:
        # several worker processes may append to one file: one locked, flushed row at a time
        fcntl.flock(self._handle, fcntl.LOCK_EX)
        try:
            self._writer.writerow(record.row(self.metric_keys))
            self._handle.flush()
        finally:
            fcntl.flock(self._handle, fcntl.LOCK_UN)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "ResultsWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def rewrite_results(run_dir: Path, metric_keys: list[str], records: Iterable[Record]) -> None:
    """Replace results.csv (atomically) by `records`: the store's content when a search resumes or ends."""
    path = Path(run_dir) / RESULTS_FILE
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["index", "hash", "score", "undefined", "seconds", *metric_keys, "arch"])
        writer.writeheader()
        for record in records:
            writer.writerow(record.row(metric_keys))
    tmp.replace(path)


def read_results(run_dir: Path) -> list[dict[str, Any]]:
    """The rows of a run's results.csv with numbers parsed and the architecture JSON decoded."""
    rows = []
    with open(Path(run_dir) / RESULTS_FILE, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            parsed: dict[str, Any] = {}
            for key, value in row.items():
                if key == "arch":
                    parsed[key] = json.loads(value)
                elif key == "hash":
                    parsed[key] = value
                elif key in ("index", "undefined"):
                    parsed[key] = int(value)
                else:
                    parsed[key] = float(value)
            rows.append(parsed)
    return rows


def write_json(path: Path, data: Any) -> None:
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
