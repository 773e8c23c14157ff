"""How reproducible is short training? Two scripts/validate_training.py runs of the same cells with
different `--seed`s, compared budget by budget (logic: tfnas.experiments.training_validation.seed_agreement).

A ranking that a second training seed does not reproduce cannot rank cells for the benchmark either:
the agreement between seeds bounds what short training at that budget can tell.

    tfnas seed-agreement --runs results/validate_training/all_cells/validate_training.csv,\
results/validate_training/all_cells_seed1/validate_training.csv --out results/validate_training/seed_agreement
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from tfnas.experiments.training_validation import seed_agreement, seed_agreement_markdown


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="tfnas seed-agreement", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", required=True, help="two comma-separated validate_training.csv files (two training seeds)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap draws for the intervals")
    parser.add_argument("--out", default=None, help="directory for seed_agreement.md / .json (default: print only)")
    args = parser.parse_args(argv)
    report = seed_agreement([Path(p) for p in args.runs.split(",") if p], draws=args.bootstrap)
    text = seed_agreement_markdown(report)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "seed_agreement.md").write_text(text, encoding="utf-8")
        (out / "seed_agreement.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(text, end="")

