"""Seconds per evaluation at the start and at the end of a 2,000-evaluation search, per storage.

    tfnas bench study-reads --budget 2000 --out results/study_reads
    tfnas bench study-reads --out results/study_reads --plot-only     # redraw the figure from its CSV
"""
import argparse
import tempfile
from pathlib import Path

from tfnas.errors import ConfigError
from tfnas.experiments.study_reads import plot, run


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="tfnas bench study-reads", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path("results/study_reads"))
    parser.add_argument("--storages", default="sqlite,journal", help="comma-separated: sqlite, journal")
    parser.add_argument("--window", type=int, default=200, help="evaluations averaged at the start and at the end")
    parser.add_argument("--plot-only", action="store_true", help="redraw OUT/seconds_per_evaluation.png from OUT/evaluations.csv")
    args = parser.parse_args(argv)
    if args.plot_only:
        if not (args.out / "evaluations.csv").is_file():
            raise ConfigError("--out", f"{args.out / 'evaluations.csv'} does not exist; run without --plot-only first")
        print(plot(args.out))
        return
    with tempfile.TemporaryDirectory() as work:
        kinds = {"sqlite": f"{work}/sqlite/study.db", "journal": f"journal:{work}/journal.log"}
        unknown = sorted(set(args.storages.split(",")) - set(kinds))
        if unknown:
            raise ConfigError("--storages", f"unknown {unknown}; choose from: {', '.join(kinds)}")
        storages = {name: kinds[name] for name in args.storages.split(",")}
        for row in run(storages, args.budget, args.out, Path(work), args.window):
            print(row)
    print(plot(args.out))

