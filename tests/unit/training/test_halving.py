"""train=halving: rung plan, the right survivors on a synthetic learning-curve benchmark, kill -9 resume."""
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

from synthetic_curves import CurveSpace, arch_hash, curve_value
from tfnas.errors import ConfigError
from tfnas.tracking import Tracker
from tfnas.training.halving import SuccessiveHalving, plan_rungs

# (floor, amplitude, rate): fast starters with high floors and slow starters with low floors, so
# the order at 4 steps is not the order at 32 steps.
CURVES = [
    (1.70, 0.4, 0.060), (1.20, 1.2, 0.030), (1.40, 1.0, 0.030), (1.00, 3.0, 0.030),
    (1.60, 0.8, 0.040), (1.10, 3.0, 0.025), (1.30, 2.0, 0.028), (1.50, 1.5, 0.045),
]
STAGE = dict(top_k=8, min_steps=4, max_steps=32, eta=2, checkpoint_every=1, log_every=1)


def shortlist(curves=CURVES):
    return [{"rank": i + 1, "hash": arch_hash(c), "score": -float(i), "arch": list(c)} for i, c in enumerate(curves)]


def expected_rungs(curves, plan):
    """Successive halving computed from the closed-form curves (ties: earlier shortlist rank first)."""
    alive, rungs = list(range(len(curves))), []
    for index, (budget, count) in enumerate(plan):
        if index:
            prev = plan[index - 1][0]
            alive = sorted(alive, key=lambda i: (curve_value(curves[i], prev), i))[:count]
        rungs.append([arch_hash(curves[i]) for i in alive])
    return rungs


def test_plan_rungs():
    assert plan_rungs(8, 50, 400, 2) == [(50, 8), (100, 4), (200, 2), (400, 1)]
    assert plan_rungs(5, 10, 25, 3) == [(10, 5), (25, 1)]
    assert plan_rungs(3, 100, 100, 2) == [(100, 3)]


@pytest.mark.parametrize("bad, field", [({"eta": 1}, "train.eta"), ({"min_steps": 0}, "train.min_steps"),
                                        ({"min_steps": 50, "max_steps": 10}, "train.max_steps"), ({"rnn": 3}, "train.rnn")])
def test_bad_settings_are_refused(bad, field):
    with pytest.raises(ConfigError) as err:
        SuccessiveHalving(**bad)
    assert err.value.field == field


def test_halving_keeps_the_right_candidates(tmp_path):
    stage = SuccessiveHalving(**STAGE)
    plan = stage.plan(len(CURVES))
    assert plan == [(4, 8), (8, 4), (16, 2), (32, 1)]
    expected = expected_rungs(CURVES, plan)
    # the benchmark is not trivial: the best at 4 steps is not the winner at 32 steps
    early = min(range(8), key=lambda i: curve_value(CURVES[i], 4))
    assert arch_hash(CURVES[early]) != expected[-1][0]
    final = stage.run(CurveSpace(), shortlist(), tmp_path, torch.device("cpu"), 0, Tracker())
    budgets = {h: budget for (budget, _), members in zip(plan, expected) for h in members}  # the deepest rung wins
    for entry in final:
        depth = max(r for r in range(len(plan)) if entry["hash"] in expected[r])
        assert entry["halving_rung"] == depth + 1, entry["hash"]
        assert entry["train_steps"] == plan[depth][0] == budgets[entry["hash"]]  # cumulative: no step trained twice
        assert entry["trained_result"] == pytest.approx(curve_value(tuple(entry["arch"]), plan[depth][0]), rel=1e-9)
    assert final[0]["hash"] == expected[-1][0]  # the winner: the one survivor of the last rung
    # within a rung, eliminated candidates are ranked by their loss there
    last_rung_of = {e["hash"]: e["halving_rung"] for e in final}
    assert [last_rung_of[e["hash"]] for e in final] == sorted(last_rung_of.values(), reverse=True)
    state = json.loads((tmp_path / "train" / "halving_state.json").read_text())
    assert [sorted(r["results"]) for r in state["rungs"]] == [sorted(r) for r in expected]
    # budgets are cumulative: each candidate trained exactly its deepest rung's steps, nothing more
    assert sum(e["train_steps"] for e in final) == sum(plan[e["halving_rung"] - 1][0] for e in final)


RUNNER = """
import sys, torch
from synthetic_curves import CurveSpace
from test_halving import STAGE, shortlist
from tfnas.tracking import Tracker
from tfnas.training.halving import SuccessiveHalving
final = SuccessiveHalving(**STAGE).run(CurveSpace(), shortlist(), sys.argv[1], torch.device("cpu"), 0, Tracker())
print(repr([(e["hash"], e["halving_rung"], e["trained_result"]) for e in final]))
"""


def _run(run_dir, log, kill=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parent)]), "TFNAS_CURVES_LOG": str(log),
           "OMP_NUM_THREADS": "1"}
    env.pop("TFNAS_CURVES_KILL", None)
    if kill:
        env["TFNAS_CURVES_KILL"] = kill
    return subprocess.run([sys.executable, "-c", RUNNER, str(run_dir)], env=env, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[3], timeout=300)


def test_kill_9_resume_loses_and_repeats_no_training(tmp_path, monkeypatch):
    plan = SuccessiveHalving(**STAGE).plan(len(CURVES))
    expected = expected_rungs(CURVES, plan)
    victim = expected[2][0]  # killed halfway through its third rung (steps 9..16)
    monkeypatch.setenv("TFNAS_CURVES_LOG", str(tmp_path / "whole.log"))
    final = SuccessiveHalving(**STAGE).run(CurveSpace(), shortlist(), tmp_path / "whole", torch.device("cpu"), 0, Tracker())
    monkeypatch.delenv("TFNAS_CURVES_LOG")
    whole_stdout = repr([(e["hash"], e["halving_rung"], e["trained_result"]) for e in final])
    killed = _run(tmp_path / "split", tmp_path / "split.log", kill=f"{victim}:12")
    assert killed.returncode == -9
    state = json.loads((tmp_path / "split" / "train" / "halving_state.json").read_text())
    assert len(state["rungs"][1]["results"]) == 4  # rungs 1 and 2 were complete and recorded ...
    assert len(state["rungs"]) == 2 or victim not in state["rungs"][2]["results"]  # ... the kill came inside rung 3
    monkeypatch.setenv("TFNAS_CURVES_LOG", str(tmp_path / "split.log"))  # the resume runs here (a start, not a kill)
    resumed = SuccessiveHalving(**STAGE).run(CurveSpace(), shortlist(), tmp_path / "split", torch.device("cpu"), 0, Tracker())
    resumed_stdout = repr([(e["hash"], e["halving_rung"], e["trained_result"]) for e in resumed])
    assert resumed_stdout == whole_stdout  # same ranking and losses as the uninterrupted run
    depth = {h: max(r for r in range(len(plan)) if h in expected[r]) for h in expected[0]}
    want = Counter((h, s) for h, d in depth.items() for s in range(1, plan[d][0] + 1))
    for log in ("whole.log", "split.log"):
        done = Counter(tuple(line.split()[:1]) + (int(line.split()[1]),) for line in (tmp_path / log).read_text().splitlines())
        assert done == want, log  # every step of every rung trained exactly once, across the kill


def test_halving_stage_on_the_rnn_space(tiny_rnn_space, tmp_path):
    from tfnas.search_spaces.nas_bench_nlp import Recipe

    cells = [{"f": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": {"op": f"activation_{act}", "input": ["f"]}}
             for act in ("tanh", "sigm", "leaky_relu")]
    entries = [{"rank": i + 1, "hash": Recipe.from_json(c).hash, "score": -float(i), "arch": Recipe.from_json(c).to_json()}
               for i, c in enumerate(cells)]
    stage = SuccessiveHalving(top_k=2, min_steps=1, max_steps=2, log_every=1,
                              rnn={"batch_size": 4, "bptt": 8, "eval_max_tokens": 200})
    final = stage.run(tiny_rnn_space, entries, tmp_path, torch.device("cpu"), 0, Tracker())
    assert [e["halving_rung"] for e in final[:2]] == [2, 1] and final[2]["train_status"] == "not trained"
    assert final[0]["train_steps"] == 2 and len(final[0]["rung_results"]) == 2
    assert (tmp_path / "shortlist.csv").exists() and (tmp_path / "training_curves.csv").exists()


def test_validation_replays_halving_and_bootstraps_over_cells():
    from scipy.stats import kendalltau

    from tfnas.experiments.training_validation import bootstrap_ci, replay_halving

    budgets = [4, 8, 16, 32]
    losses = {arch_hash(c): [curve_value(c, b) for b in budgets] for c in CURVES}
    assert replay_halving(losses, budgets, 2) == expected_rungs(CURVES, plan_rungs(8, 4, 32, 2))[-1]
    x = list(range(12))
    assert bootstrap_ci(x, [2 * v for v in x], kendalltau, draws=200) == pytest.approx((1.0, 1.0))
    noisy = [v + (5 if v % 3 == 0 else 0) for v in x]
    low, high = bootstrap_ci(x, noisy, kendalltau, draws=500)
    assert -1 <= low < kendalltau(x, noisy)[0] < high <= 1


def test_the_replay_on_recorded_curves_ranks_as_the_stage_does(tmp_path):
    """compare_strategies replays halving on recorded losses; it must give the stage's own final order."""
    from tfnas.experiments.training_validation import halving_order

    final = SuccessiveHalving(**STAGE).run(CurveSpace(), shortlist(), tmp_path, torch.device("cpu"), 0, Tracker())
    budgets = [4, 8, 16, 32]
    losses = {arch_hash(c): [curve_value(c, b) for b in budgets] for c in CURVES}  # in shortlist order
    assert halving_order(losses, budgets, 2) == [e["hash"] for e in final]
