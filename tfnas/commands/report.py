"""`tfnas report RUN_DIR [RUN_DIR ...]` (also `python -m tfnas.report`): rebuild one run's report, or compare several runs.

A directory without summary.json (a multirun sweep directory) stands for every run under it.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from tfnas.report.compare import COMPARISON_FILE, compare_runs, find_runs
from tfnas.report.run_report import write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tfnas report", description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="run directories or multirun sweep directories")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"where {COMPARISON_FILE} goes (default: the sweep directory, or the runs' common parent)")
    parser.add_argument("--rebuild", action="store_true", help="when comparing, rebuild every run's report first")
    args = parser.parse_args(argv)

    runs: list[Path] = []
    for path in args.paths:
        if not path.is_dir():
            parser.error(f"{path}: no such directory")
        found = find_runs(path)
        if not found:
            parser.error(f"{path}: no summary.json in it or under it (not a finished tfnas run or sweep directory)")
        runs += [r for r in found if r not in runs]

    if len(runs) == 1:
        print(f"tfnas: report: {write_report(runs[0])}")
        return 0
    if args.rebuild:
        from tqdm.auto import tqdm

        for run in tqdm(runs, desc="reports", unit="run", disable=None):  # a bar with an ETA on a terminal only
            write_report(run)
    out = args.out or (args.paths[0] if len(args.paths) == 1 else Path(os.path.commonpath([p.resolve() for p in runs])))
    path = compare_runs(runs, out)
    print(path.read_text(encoding="utf-8").split("## Best so far")[0].rstrip())
    print(f"\ntfnas: comparison of {len(runs)} runs: {path}")
    return 0
