"""The files a search writes into its run directory, streamed so an interrupted run keeps what it scored."""
from __future__ import annotations

import csv
import fcntl
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from datetime import datetime, timezone
from typing import Any, Iterable

from tfnas.errors import ConfigError, TfnasError

log = logging.getLogger("tfnas")

RESULTS_FILE = "results.csv"
BEST_FILE = "best.json"
SUMMARY_FILE = "summary.json"


class ResultsFileError(TfnasError):
    """A results.csv that cannot be read back."""


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
    """The rows of a run's results.csv with numbers parsed and the architecture JSON decoded.

    A last row cut short (a process killed mid-write) is left out with a warning; a broken row
    anywhere else is a ResultsFileError naming the file and line."""
    path = Path(run_dir) / RESULTS_FILE
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            raw = list(csv.DictReader(handle))
    except (csv.Error, UnicodeDecodeError) as err:
        raise ResultsFileError(f"{path}: not a readable CSV file ({err})"[:300]) from None
    rows = []
    for number, row in enumerate(raw, start=2):
        try:
            rows.append(_parse_row(row))
        except (TypeError, ValueError, AttributeError) as err:
            if number - 2 == len(raw) - 1:
                log.warning("%s: line %d is incomplete (cut mid-write?); left out", path, number)
                continue
            raise ResultsFileError(f"{path}: line {number} is not a results row ({type(err).__name__}: {err}"[:300] + ")") from None
    return rows


def _parse_row(row: dict) -> dict[str, Any]:
    if None in row or any(value is None for value in row.values()):
        raise ValueError("wrong number of fields")
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
    return parsed


def stored_hashes_in_file(run_dir: Path) -> set[str]:
    """The hashes results.csv lists (tolerant: any readable row with a hash counts)."""
    path = Path(run_dir) / RESULTS_FILE
    if not path.exists():
        return set()
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return {row["hash"] for row in csv.DictReader(handle) if row.get("hash")}


def protect_results(run_dir: Path, stored: set[str], overwrite: bool, where: str) -> Path | None:
    """Refuse a start whose study (`stored`: the hashes it holds, `where`: which study) lacks rows of
    the run's results.csv, since results.csv is rewritten from the study. With `overwrite`, move the
    old file aside (results.<UTC time>.csv) and return its new path."""
    path = Path(run_dir) / RESULTS_FILE
    missing = stored_hashes_in_file(run_dir) - stored
    if not missing:
        return None
    if not overwrite:
        raise ConfigError(
            "search.overwrite",
            f"{path} holds {len(missing)} scored architecture(s) that {where} does not (an empty or deleted "
            "study.db, search.storage=memory, or another search.study_name); starting would drop them. Use another "
            "run directory (hydra.run.dir=...), resume with the study that wrote them, or set search.overwrite=true "
            "to move the old file aside",
        )
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    aside = path.with_name(f"results.{stamp}.csv")
    path.replace(aside)
    log.warning("moved %s aside to %s (search.overwrite=true)", path, aside)
    return aside


def write_json(path: Path, data: Any) -> None:
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def finite_curve_rows(path: str | Path):
    """The rows of a long-format training curve (`curve.csv`, `training_curves.csv`: ..., step, name, value)
    whose value is finite, with `value` as a float and `step` as an int; a diverged step is left out."""
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            value = float(row["value"])
            if math.isfinite(value):
                yield {**row, "step": int(row["step"]), "value": value}
