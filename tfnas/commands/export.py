"""`tfnas export RUN_DIR --rank 1 --out DIR`: one shortlisted architecture of a finished run as a model folder
(logic: tfnas.export)."""
from __future__ import annotations

import argparse
from pathlib import Path

from tfnas.export import export_run


def main(argv: list[str]) -> int:
    """The `tfnas export` subcommand; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="tfnas export",
        description="Write one shortlisted architecture of a finished run as a reusable model folder "
                    "(BERT: a self-contained Hugging Face folder; RNN: safetensors + config + vocabulary).")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a finished run directory (summary.json, best.json)")
    parser.add_argument("--rank", type=int, default=1, help="which entry of best.json (1 = the best; default 1)")
    parser.add_argument("--out", default=None, help="output folder (default RUN_DIR/export/rank<N>)")
    parser.add_argument("--overwrite", action="store_true", help="write into a non-empty --out")
    args = parser.parse_args(argv)
    record = export_run(args.run_dir, args.rank, args.out, args.overwrite)
    out = args.out or Path(args.run_dir) / "export" / f"rank{args.rank}"
    print(f"tfnas export: rank {record['rank']} ({record['hash'][:12]}, {record['weights']}) -> {out}")
    print(f"load it with: {record['load']}")
    return 0
