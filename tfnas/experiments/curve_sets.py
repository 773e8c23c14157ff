"""Learning-curve sets whose informativeness is known, to test multi-fidelity pipelines for robustness.

* `synthetic`: for each labelled architecture, rung k's loss is the normal score of its label plus noise
  whose size gives a chosen Kendall tau with the label at that rung (tau = 2/pi asin(r) for a bivariate
  normal with correlation r); the noise is AR(1) across rungs (correlation `rho`), as a training run's
  luck carries from one rung to the next, so consecutive rungs agree more than each agrees with the label.
* `relabelled`: recorded curves with their `loss_<steps>` columns renamed to other steps, i.e. the same
  losses charged as if they had been recorded at other fractions of a full training.

Both write validate_training.csv-shaped files (id, loss_<steps>, status_<steps>) that `tfnas compare
--training-curves` reads like any other tool's curves, plus a JSON of how they were made.

    python -m tfnas.experiments.curve_sets --space rnn --out results/compare_compute/curve_sets
"""
from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.stats import kendalltau, norm, rankdata

#: Kendall tau with the label at rungs of 2, 4, 8, 16, 32 and 64 % of a full training
INFORMATIVENESS = {
    "vhigh": (0.85, 0.88, 0.90, 0.93, 0.95, 0.97),
    "high": (0.75, 0.80, 0.85, 0.90, 0.93, 0.95),
    "mid": (0.45, 0.55, 0.65, 0.75, 0.85, 0.90),
    "low": (0.15, 0.25, 0.35, 0.45, 0.55, 0.65),
}
#: one "epoch" of a 50-epoch full training of 74,600 steps: rungs at 1, 2, 4, 8, 16, 32 epochs
FULL_STEPS, EPOCH = 74600, 1492


def synthetic(labels: dict[str, float], taus: Sequence[float], steps: Sequence[int], rho: float = 0.7, seed: int = 0,
              higher_is_better: bool = False) -> dict[str, dict[int, float]]:
    """id -> {steps: loss}: normal scores of the labels (lower is better) plus AR(1) noise hitting `taus`."""
    rng = np.random.default_rng(seed)
    ids = sorted(labels)
    target = np.array([labels[i] for i in ids], dtype=float) * (-1.0 if higher_is_better else 1.0)
    z = norm.ppf((rankdata(target) - 0.5) / len(ids))
    noise = rng.normal(size=len(ids))
    curves = {i: {} for i in ids}
    for k, (tau, step) in enumerate(zip(taus, steps)):
        if k:
            noise = rho * noise + math.sqrt(1 - rho**2) * rng.normal(size=len(ids))
        r = math.sin(math.pi * tau / 2)
        values = z + math.sqrt(1 / r**2 - 1) * noise
        for i, value in zip(ids, values):
            curves[i][int(step)] = float(value)
    return curves


def relabelled(path: Path, steps: Sequence[int]) -> dict[str, dict[int, float]]:
    """A validate_training.csv's curves with its recorded steps renamed to `steps`, in order (failed: inf)."""
    from tfnas.experiments.training_validation import WORST, read_curves_csv

    curves = read_curves_csv(Path(path), field="--curves", benchmark=False)
    recorded = sorted(next(iter(curves.values())))
    if len(recorded) != len(steps):
        raise ValueError(f"{path} records {len(recorded)} steps, {len(steps)} new ones given")
    return {cell: {int(new): (math.inf if curve[old] == WORST else curve[old]) for old, new in zip(recorded, steps)}
            for cell, curve in curves.items()}


def write(path: Path, curves: dict[str, dict[int, float]], labels: dict[str, float], about: dict) -> dict:
    """The curves as a validate_training.csv-shaped file, and beside it what they are and each rung's tau with the labels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    steps = sorted({s for c in curves.values() for s in c})
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id"] + [f"{c}_{s}" for s in steps for c in ("loss", "status")])
        for cell in sorted(curves):
            row = [cell]
            for s in steps:
                value = curves[cell][s]
                row += [repr(value) if math.isfinite(value) else "inf", "ok" if math.isfinite(value) else "failed"]
            writer.writerow(row)
    common = sorted(set(curves) & set(labels))
    taus = {str(s): float(kendalltau([curves[c][s] for c in common], [labels[c] for c in common])[0]) for s in steps}
    report = {**about, "cells": len(curves), "kendall_tau_with_labels": taus}
    path.with_suffix(".json").write_text(json.dumps(report, indent=1))
    path.with_suffix(".md").write_text(f"{about['what']}\n\nKendall tau with the labels per rung (steps: tau): "
                                       + ", ".join(f"{s}: {t:.3f}" for s, t in taus.items()) + "\n")
    return report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tfnas.experiments.curve_sets", description=__doc__.split("\n")[0])
    parser.add_argument("--space", default="rnn")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--curves", type=Path, default=Path("results/validate_training/all_cells/validate_training.csv"),
                        help="recorded curves to relabel as if at 2..32 %% of a full training")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from tfnas.experiments.compare_setup import setup_space

    setup = setup_space(args.space, None, False, None)
    labels = {str(i): setup.truth[h] for i, h in zip(setup.pool.ids, setup.pool.hashes)}
    steps = [EPOCH * 2**k for k in range(6)]
    for name, taus in INFORMATIVENESS.items():
        curves = synthetic(labels, taus, steps, seed=args.seed, higher_is_better=setup.higher_is_better)
        about = {"what": f"Synthetic curves '{name}': label normal scores + AR(1) noise (rho 0.7), target tau {list(taus)} at "
                         f"{steps} steps of a {FULL_STEPS}-step full training (seed {args.seed})", "seed": args.seed}
        write(args.out / f"synthetic_{name}.csv", curves, labels, about)
    relabel = relabelled(args.curves, steps[:5])
    about = {"what": f"{args.curves}'s losses renamed to {steps[:5]} steps: the same ranks charged as 2..32 % of a "
                     f"{FULL_STEPS}-step full training", "seed": args.seed}
    write(args.out / "relabelled.csv", relabel, labels, about)
    print(f"curve sets written to {args.out}", flush=True)


if __name__ == "__main__":
    main()
