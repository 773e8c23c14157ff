"""Labels from the user: replace a space's benchmark targets with your own trained results.

`space.benchmark.labels=FILE.csv` (scripts: `--labels FILE.csv`) reads a CSV with the columns
`model_id,target`, where model_id is an id of the space's benchmark (NAS-Bench-NLP model ids,
NAS-Bench-BERT ids); a row for an architecture the benchmark does not list carries it in a
`recipe` or `arch` column (the space's JSON form) or names it by canonical `hash`. Lower targets
are better unless `space.benchmark.higher_is_better=true` (`--higher-is-better`).

The labelled pool is then the labelled architectures the space can build: search.pool=benchmark
searches them, train=benchmark and strategy=ensemble query them, compare_strategies measures
against them. A row that does not parse (no finite target, bad JSON, an architecture the space
refuses) is refused with its line number before anything is written; ids the space does not know
are counted and reported, never silently dropped.
"""
from __future__ import annotations

import csv
import json
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from tfnas.search_space import SpaceWrapper
from tfnas.benchmarks.base import TabularBenchmark
from tfnas.data.text_file import LABELS_MB, check_file, utf8_error
from tfnas.errors import ConfigError, InvalidArchitecture

FIELD = "space.benchmark.labels"
ARCH_COLUMNS = ("recipe", "arch")
MAX_ARCH_CHARS = 100_000  # an architecture's JSON in a labels row (the largest benchmark recipe is under 2,000)


@dataclass
class LabelsReport:
    """What a labels file held: rows used, ids the space does not know, repeated architectures."""

    path: str
    rows: int = 0
    used: int = 0
    unknown: list[tuple[int, str]] = field(default_factory=list)  # (line, id or hash)
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # (line, id) of repeats of an architecture

    def summary(self) -> str:
        text = f"labels {self.path}: {self.rows} rows, {self.used} labelled architectures in the pool"
        if self.unknown:
            shown = ", ".join(f"{i} (line {n})" for n, i in self.unknown[:8]) + (" ..." if len(self.unknown) > 8 else "")
            text += f"; {len(self.unknown)} not in the space: {shown}"
        if self.duplicates:
            text += f"; {len(self.duplicates)} repeat an architecture already labelled (first row kept)"
        return text


class LabelsBenchmark(TabularBenchmark):
    """A tabular benchmark made of the user's labels: target `target`, direction as given."""

    target = "target"

    def __init__(self, space, entries: list[tuple[str, Any, float]], higher_is_better: bool, report: LabelsReport):
        super().__init__(space)
        self.name = f"labels:{Path(report.path).name}"
        self.higher_is_better = bool(higher_is_better)
        self.report = report
        self._entries = entries
        self._targets = {arch_id: target for arch_id, _, target in entries}

    def pool(self) -> list[tuple[str, Any]]:
        return [(arch_id, arch) for arch_id, arch, _ in self._entries]

    def query_id(self, arch_id: str) -> dict[str, Any] | None:
        target = self._targets.get(str(arch_id))
        return None if target is None else {"target": target}


def known_architectures(space) -> dict[str, Any]:
    """id -> architecture of everything the space's own benchmark lists (labelled or not)."""
    bench = space.benchmark()
    if bench is None:
        return {}
    listed = getattr(bench, "architectures", bench.pool)
    return {str(arch_id): arch for arch_id, arch in listed()}


def load_labels(path: str | Path, space, higher_is_better: bool = False) -> LabelsBenchmark:
    """Read and validate a labels file for `space`; raises ConfigError naming every bad line."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(FIELD, f"no labels file at {str(path)!r} (a CSV with columns model_id,target)")
    check_file(path, FIELD, LABELS_MB * 1_000_000, what="CSV file with columns model_id,target")
    known = known_architectures(space)
    by_hash = {}
    for arch_id, arch in known.items():
        by_hash.setdefault(space.hash(arch), (arch_id, arch))
    report = LabelsReport(str(path))
    errors: list[str] = []
    entries: list[tuple[str, Any, float]] = []
    seen: dict[str, int] = {}
    with read_csv(path) as reader:
        columns = [c.strip() for c in (reader.fieldnames or [])]
        reader.fieldnames = columns
        if "target" not in columns or not ({"model_id", "hash"} | set(ARCH_COLUMNS)) & set(columns):
            raise ConfigError(FIELD, f"{path}: the header must have a `target` column and `model_id` (or `recipe`/`arch`/`hash`); "
                              f"got {_short(columns)}")
        for row in reader:
            line = reader.line_num
            report.rows += 1
            arch_id = (row.get("model_id") or "").strip()
            try:
                target = float(row.get("target") or "")
            except ValueError:
                target = math.nan
            if not math.isfinite(target):
                errors.append(f"line {line}: target {row.get('target')!r} is not a finite number")
                continue
            text = next((row[c] for c in ARCH_COLUMNS if (row.get(c) or "").strip()), None)
            if text is not None and len(text) > MAX_ARCH_CHARS:  # before json.loads: no parser meets hostile lengths
                errors.append(f"line {line}: the architecture is {len(text):,} characters long; at most {MAX_ARCH_CHARS:,}")
                continue
            key = (row.get("hash") or "").strip()
            if text is not None:
                try:
                    arch = space.from_json(json.loads(text))
                    space.validate(arch)
                except json.JSONDecodeError as err:
                    errors.append(f"line {line}: the architecture is not valid JSON ({err.msg})")
                    continue
                except (InvalidArchitecture, ConfigError, KeyError, TypeError, ValueError) as err:
                    errors.append(f"line {line}: not an architecture of space {space.name!r}: {err}")
                    continue
                arch_id = arch_id or f"line{line}"
            elif key:
                if key not in by_hash:
                    report.unknown.append((line, key))
                    continue
                found_id, arch = by_hash[key]
                arch_id = arch_id or found_id
            elif arch_id:
                if arch_id not in known:
                    report.unknown.append((line, arch_id))
                    continue
                arch = known[arch_id]
            else:
                errors.append(f"line {line}: no model_id, recipe/arch or hash")
                continue
            canonical = space.hash(arch)
            if canonical in seen or arch_id in {e[0] for e in entries}:
                report.duplicates.append((line, arch_id))
                continue
            seen[canonical] = line
            entries.append((arch_id, arch, target))
    if errors:
        shown = "; ".join(errors[:10]) + (f"; and {len(errors) - 10} more" if len(errors) > 10 else "")
        raise ConfigError(FIELD, f"{path}: {len(errors)} row(s) refused: {shown}")
    report.used = len(entries)
    if not entries:
        raise ConfigError(FIELD, f"{path}: no row labels an architecture of space {space.name!r} ({report.summary()})")
    return LabelsBenchmark(space, entries, higher_is_better, report)


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextmanager
def read_csv(path: Path) -> Iterator[csv.DictReader]:
    """A DictReader over a UTF-8 CSV whose reading errors (a field above the csv module's limit, a byte that is not
    UTF-8) become one ConfigError naming the file, the line and the fix."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        try:
            yield reader
        except csv.Error as err:
            why = (f"a field is longer than the CSV reader's limit of {csv.field_size_limit():,} characters"
                   if "field limit" in str(err) else str(err))
            raise ConfigError(FIELD, f"{path}: line {reader.line_num + 1}: {why}; fix that row") from None
        except UnicodeDecodeError:
            raise ConfigError(FIELD, f"{path}: {utf8_error(path)}") from None


class LabelledSpace(SpaceWrapper):
    """The space, with the user's labels as its tabular benchmark."""

    def __init__(self, space, labels: LabelsBenchmark):
        super().__init__(space)
        self._labels = labels

    def benchmark(self):
        return self._labels


def with_benchmark_options(space, options: dict | None):
    """Apply `space.benchmark.*` options: `labels` (a CSV) and `higher_is_better` (for those labels)."""
    options = dict(options or {})
    unknown = set(options) - {"labels", "higher_is_better"}
    if unknown:
        raise ConfigError("space.benchmark", f"unknown option(s) {sorted(unknown)}; valid: labels, higher_is_better")
    if not options.get("labels"):
        return space
    hib = options.get("higher_is_better", False)
    if not isinstance(hib, bool):
        raise ConfigError("space.benchmark.higher_is_better", f"must be true or false, got {hib!r}")
    bench = load_labels(options["labels"], space, hib)
    print(f"tfnas: {bench.report.summary()}", flush=True)
    return LabelledSpace(space, bench)
