"""Sizing a pruned stage to a compute budget: the hand-computed plans, and no schedule ever spends more than its budget."""
import functools
import math

import numpy as np
import optuna
import pytest

from tfnas.training import HyperbandTraining, MultiFidelityTraining, SuccessiveHalvingTraining
from tfnas.training.curves import RecordedCurves
from tfnas.training.plan import fit_halving, fit_screening, halving_cost, ladder

F, EPOCH = 74600, 1492
RUNGS = [EPOCH * 2**k for k in range(6)]  # 1, 2, 4, 8, 16, 32 epochs of a 50-epoch full training


def test_successive_halving_is_sized_as_a_hand_computation_sizes_it():
    # 16 entrants at 1 epoch, 8 at 2, 4 at 4, 2 at 8, 1 at 16, continued to 50: 16+8+8+8+8+34 = 82 epochs
    assert halving_cost(16, RUNGS[:5], F, 2) == 82 * EPOCH
    plan = fit_halving(RUNGS, F, 82 / 50, 2)
    assert (plan.entrants, plan.rungs, plan.finals) == (16, tuple(RUNGS[:5]), 1)
    # 32 entrants through all six rungs: 32+16+16+16+16+16+18 = 130 epochs = 2.6 full trainings
    assert fit_halving(RUNGS, F, 2.6, 2).entrants == 32
    assert fit_halving(RUNGS, F, 1.0, 2).entrants == 1  # one full training, nothing to halve


def test_the_screening_plan_gives_half_the_budget_to_full_trainings_and_caps_the_rungs():
    plan = fit_screening(RUNGS, F, 1.5, 2)
    assert plan.finals == 1 and plan.rungs == tuple(RUNGS[:3]) and plan.entrants is None  # rungs <= 0.5 F / 4
    plan = fit_screening(RUNGS, F, 3, 2)
    assert plan.finals == 2 and plan.rungs == tuple(RUNGS[:4])  # rungs <= 1 F / 4
    assert fit_screening(RUNGS, F, 1, 2).rungs == (EPOCH,)
    assert ladder([25, 50, 100, 200, 400], 3) == [25, 100, 400]


def stages(budget):
    common = dict(budget=budget, full_steps=F, top_k=None)
    sh = functools.partial(optuna.pruners.SuccessiveHalvingPruner, min_resource=EPOCH, reduction_factor=2)
    hb = functools.partial(optuna.pruners.HyperbandPruner, min_resource=EPOCH, max_resource=RUNGS[-1], reduction_factor=2)
    return [SuccessiveHalvingTraining(pruner=sh, **common), HyperbandTraining(pruner=hb, **common),
            MultiFidelityTraining(pruner=sh, **common)]


def test_no_schedule_exceeds_its_budget_and_its_cost_adds_up():
    rng = np.random.default_rng(0)
    for case in range(12):
        losses = {f"c{i}": {s: float(v) for s, v in zip(RUNGS, np.sort(rng.normal(size=6))[::-1] + rng.normal(size=1))}
                  for i in range(60)}
        for key in rng.choice(list(losses), 5, replace=False):  # some trainings diverge at some rung
            losses[key][int(rng.choice(RUNGS))] = math.inf
        budget = float(rng.choice([1, 1.25, 1.5, 2, 3, 5]))
        for stage in stages(budget):
            schedule = stage.schedule(list(losses), RecordedCurves(losses), available=RUNGS)
            assert schedule.cost <= budget * F + 1e-6, (stage.name, budget)
            # every rung trained is paid for, a diverged one too: each candidate's steps are those of its last rung
            assert schedule.rung_steps == pytest.approx(sum(o.steps for o in schedule.outcomes.values()))
            assert schedule.cost == pytest.approx(schedule.rung_steps + sum(F - o.steps for o in schedule.finals))
            assert schedule.finals and all(o.status != "failed" for o in schedule.finals)
