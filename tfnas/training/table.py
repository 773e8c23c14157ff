"""The shortlist table (shortlist.csv) both post-search stages write, and its console rendering."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

SHORTLIST_FILE = "shortlist.csv"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def write_shortlist(run_dir: Path, entries: list[dict[str, Any]]) -> Path:
    """One row per shortlisted architecture, in final-rank order; the architecture JSON last."""
    fields: list[str] = []
    for entry in entries:
        fields.extend(k for k in entry if k not in fields and k != "arch")
    fields.append("arch")
    path = Path(run_dir) / SHORTLIST_FILE
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for entry in entries:
            writer.writerow({k: _cell(entry.get(k)) for k in fields})
    return path


def format_table(entries: list[dict[str, Any]], columns: list[str]) -> str:
    """A small fixed-width table of `columns` for the console."""
    def show(value):
        if isinstance(value, float):
            return f"{value:.4g}"
        return "" if value is None else str(value)

    rows = [[show(e.get(c)) for c in columns] for e in entries]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)
