"""train=halving / hyperband on Optuna's pruners: the decisions a hand computation makes, the same decisions for a
real training and for the replay of recorded curves, the trained study as the record, and kill -9 resume."""
import functools
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import optuna
import pytest
import torch

from synthetic_curves import CurveSpace, arch_hash, curve_value
from tfnas.errors import ConfigError
from tfnas.tracking import Tracker
from tfnas.training import HyperbandTraining, StageContext, SuccessiveHalvingTraining
from tfnas.training.curves import RecordedCurves
from tfnas.training.rungs import run_rungs

# (floor, amplitude, rate): fast starters with high floors and slow starters with low floors, so
# the order at 4 steps is not the order at 32 steps.
# In this order the first entrant (a fast starter) reaches the last rung unopposed, and two later ones displace it.
CURVES = [
    (1.70, 0.4, 0.060), (1.00, 3.0, 0.030), (1.10, 3.0, 0.025), (1.60, 0.8, 0.040),
    (1.30, 2.0, 0.028), (1.50, 1.5, 0.045), (1.40, 1.0, 0.030), (1.20, 1.2, 0.030),
]
RUNGS = [4, 8, 16, 32]
STAGE = dict(top_k=8, max_steps=32, checkpoint_every=1, log_every=1)


def sh_pruner(**kw):
    return functools.partial(optuna.pruners.SuccessiveHalvingPruner, **{"min_resource": 4, "reduction_factor": 2, **kw})


def shortlist(curves=CURVES):
    return [{"rank": i + 1, "hash": arch_hash(c), "score": -float(i), "arch": list(c)} for i, c in enumerate(curves)]


def recorded(curves=CURVES, rungs=RUNGS):
    return RecordedCurves({arch_hash(c): {s: curve_value(c, s) for s in rungs} for c in curves})


def by_hand(curves, rungs, eta):
    """The documented semantics, computed directly: candidates in order; at each rung a candidate goes on only if its
    loss is among the best max(1, n // eta) of the n losses reported at that rung so far (itself included)."""
    seen = {r: [] for r in rungs}
    out = {}
    for c in curves:
        for index, steps in enumerate(rungs):
            value = curve_value(c, steps)
            seen[steps].append(value)
            if index == len(rungs) - 1:
                out[arch_hash(c)] = ("ok", steps)
                break
            keep = sorted(seen[steps])[max(len(seen[steps]) // eta - 1, 0)]
            if value > keep:
                out[arch_hash(c)] = ("pruned", steps)
                break
    return out


def test_the_replay_of_successive_halving_decides_what_a_hand_computation_decides():
    outcomes = run_rungs([arch_hash(c) for c in CURVES], RUNGS, sh_pruner()(), recorded())
    assert {k: (o.status, o.steps) for k, o in outcomes.items()} == by_hand(CURVES, RUNGS, 2)
    # the benchmark is not trivial: the best at 4 steps is not the best at 32 steps
    assert min(CURVES, key=lambda c: curve_value(c, 4)) != min(CURVES, key=lambda c: curve_value(c, 32))
    assert [k for k, o in outcomes.items() if o.status == "ok"] == [arch_hash(CURVES[i]) for i in (0, 6, 7)]


def test_a_real_training_takes_the_decisions_the_replay_takes(tmp_path):
    stage = SuccessiveHalvingTraining(pruner=sh_pruner(), **STAGE)
    final = stage.run(CurveSpace(), shortlist(), tmp_path, torch.device("cpu"), 0, Tracker())
    replay = stage.schedule([arch_hash(c) for c in CURVES], recorded())
    trained = {e["hash"]: e for e in final}
    for key, outcome in replay.outcomes.items():
        entry = trained[key]
        assert (entry["train_status"], entry["train_steps"]) == (outcome.status, outcome.steps)  # cumulative: no step twice
        assert entry["trained_result"] == pytest.approx(outcome.loss, rel=1e-9)
    deepest = [e["train_steps"] for e in final]
    assert deepest == sorted(deepest, reverse=True)  # final ranking: deepest rung first, then the loss there
    assert final[0]["trained_result"] == min(o.loss for o in replay.outcomes.values() if o.steps == 32)


def test_hyperband_replays_like_it_trains_and_spreads_entrants_over_brackets(tmp_path):
    pruner = functools.partial(optuna.pruners.HyperbandPruner, min_resource=4, max_resource=32, reduction_factor=2)
    stage = HyperbandTraining(pruner=pruner, **STAGE)
    final = stage.run(CurveSpace(), shortlist(), tmp_path, torch.device("cpu"), 0, Tracker())
    replay = stage.schedule([arch_hash(c) for c in CURVES], recorded())
    assert {e["hash"]: e["train_steps"] for e in final} == {k: o.steps for k, o in replay.outcomes.items()}
    again = stage.schedule([arch_hash(c) for c in CURVES], recorded())  # brackets come from the trial numbers: deterministic
    assert {k: o.steps for k, o in again.outcomes.items()} == {k: o.steps for k, o in replay.outcomes.items()}


def test_the_trained_study_holds_one_trial_per_entrant_with_its_rungs(tmp_path):
    from tfnas.store import EvaluationStore
    from tfnas.store.trained import TrainedResults

    store = EvaluationStore(f"sqlite:///{tmp_path / 'study.db'}", "tfnas", ["maximize"], "score")
    context = StageContext([], None, TrainedResults(store, CurveSpace()), 10)
    final = SuccessiveHalvingTraining(pruner=sh_pruner(), **STAGE).run(CurveSpace(), shortlist(), tmp_path / "run",
                                                                       torch.device("cpu"), 0, Tracker(), context)
    study = optuna.load_study(study_name="tfnas-trained-halving", storage=f"sqlite:///{tmp_path / 'study.db'}")
    trials = {t.user_attrs["hash"]: t for t in study.trials}
    assert len(study.trials) == len(CURVES) == len(trials)
    for entry in final:
        trial = trials[entry["hash"]]
        assert trial.state.name == ("COMPLETE" if entry["train_status"] == "ok" else "PRUNED")
        assert max(trial.intermediate_values) == entry["train_steps"]
        assert trial.intermediate_values[entry["train_steps"]] == pytest.approx(entry["trained_result"])


RUNNER = """
import functools, sys, optuna, torch
from synthetic_curves import CurveSpace
from test_halving import STAGE, shortlist, sh_pruner
from tfnas.store import EvaluationStore
from tfnas.store.trained import TrainedResults
from tfnas.tracking import Tracker
from tfnas.training import StageContext, SuccessiveHalvingTraining
store = EvaluationStore("sqlite:///" + sys.argv[1] + "/study.db", "tfnas", ["maximize"], "score")
context = StageContext([], None, TrainedResults(store, CurveSpace()), 10)
final = SuccessiveHalvingTraining(pruner=sh_pruner(), **STAGE).run(CurveSpace(), shortlist(), sys.argv[1] + "/run",
                                                                    torch.device("cpu"), 0, Tracker(), context)
print(repr([(e["hash"], e["train_steps"], e["trained_result"]) for e in final]))
"""


def _run(run_dir, log, kill=None):
    Path(run_dir).mkdir(exist_ok=True)
    here = Path(__file__).resolve()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parents[2]), str(here.parent)]), "TFNAS_CURVES_LOG": str(log),
           "OMP_NUM_THREADS": "1"}
    env.pop("TFNAS_CURVES_KILL", None)
    if kill:
        env["TFNAS_CURVES_KILL"] = kill
    return subprocess.run([sys.executable, "-c", RUNNER, str(run_dir)], env=env, capture_output=True, text=True,
                          cwd=here.parents[3], timeout=300)


def _in_process(run_dir, log, monkeypatch):
    """The runner's stage in this process (a start, not a kill), its steps logged to `log`."""
    from tfnas.store import EvaluationStore
    from tfnas.store.trained import TrainedResults

    Path(run_dir).mkdir(exist_ok=True)
    monkeypatch.setenv("TFNAS_CURVES_LOG", str(log))
    store = EvaluationStore(f"sqlite:///{run_dir}/study.db", "tfnas", ["maximize"], "score")
    context = StageContext([], None, TrainedResults(store, CurveSpace()), 10)
    final = SuccessiveHalvingTraining(pruner=sh_pruner(), **STAGE).run(CurveSpace(), shortlist(), Path(run_dir) / "run",
                                                                       torch.device("cpu"), 0, Tracker(), context)
    monkeypatch.delenv("TFNAS_CURVES_LOG")
    return repr([(e["hash"], e["train_steps"], e["trained_result"]) for e in final])


def test_kill_9_and_a_restart_keep_every_finished_rung(tmp_path, monkeypatch):
    whole = _in_process(tmp_path / "whole", tmp_path / "whole.log", monkeypatch)
    victim = arch_hash(CURVES[7])  # the last entrant goes all the way: killed inside its third rung (steps 9..16)
    killed = _run(tmp_path / "split", tmp_path / "split.log", kill=f"{victim}:12")
    assert killed.returncode == -9
    url = f"sqlite:///{tmp_path / 'split' / 'study.db'}"
    study = optuna.load_study(study_name="tfnas-trained-halving", storage=url)
    running = [t for t in study.trials if t.state.name == "RUNNING"]
    assert [t.user_attrs["hash"] for t in running] == [victim] and sorted(running[0].intermediate_values) == [4, 8]
    assert len(study.trials) == len(CURVES)  # the seven before it ended, each in its trial
    resumed = _in_process(tmp_path / "split", tmp_path / "split.log", monkeypatch)
    assert resumed == whole  # same ranking and losses as the uninterrupted run
    study = optuna.load_study(study_name="tfnas-trained-halving", storage=url)
    states = Counter(t.state.name for t in study.trials if t.user_attrs["hash"] == victim)
    assert states == Counter({"FAIL": 1, "COMPLETE": 1})  # the abandoned trial closed, the candidate finished in a new one
    steps = {k: s for k, (_, s) in by_hand(CURVES, RUNGS, 2).items()}
    want = Counter((k, s) for k, deepest in steps.items() for s in range(1, deepest + 1))
    for log in ("whole.log", "split.log"):
        done = Counter((line.split()[0], int(line.split()[1])) for line in (tmp_path / log).read_text().splitlines())
        assert done == want, log  # every step of every rung trained exactly once, across the kill


@pytest.mark.parametrize("bad, field", [({"pruner": sh_pruner(reduction_factor=1)}, "train.pruner.reduction_factor"),
                                        ({"max_steps": 2}, "train.max_steps"), ({"rnn": 3}, "train.rnn"),
                                        ({"budget": 2}, "train.full_steps"), ({"budget": 0.5, "full_steps": 100}, "train.budget"),
                                        ({"full": "maybe"}, "train.full"), ({"top_k": 0}, "train.top_k")])
def test_bad_settings_are_refused(bad, field):
    with pytest.raises(ConfigError) as err:
        SuccessiveHalvingTraining(**{"pruner": sh_pruner(), **bad})
    assert err.value.field == field


def test_halving_stage_on_the_rnn_space(tiny_rnn_space, tmp_path):
    from tfnas.search_spaces.nas_bench_nlp import Recipe

    cells = [{"f": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": {"op": f"activation_{act}", "input": ["f"]}}
             for act in ("tanh", "sigm", "leaky_relu")]
    entries = [{"rank": i + 1, "hash": Recipe.from_json(c).hash, "score": -float(i), "arch": Recipe.from_json(c).to_json()}
               for i, c in enumerate(cells)]
    stage = SuccessiveHalvingTraining(pruner=sh_pruner(min_resource=1), top_k=2, max_steps=2, log_every=1,
                                      rnn={"batch_size": 4, "bptt": 8, "eval_max_tokens": 200})
    final = stage.run(tiny_rnn_space, entries, tmp_path, torch.device("cpu"), 0, Tracker())
    assert final[0]["train_steps"] == 2 and final[0]["rung"] == 2 and final[2]["train_status"] == "not trained"
    assert len(final[0]["rung_results"]) == 2
    assert (tmp_path / "shortlist.csv").exists() and (tmp_path / "training_curves.csv").exists()


def test_the_validation_report_replays_the_stage():
    from tfnas.experiments.training_validation import replay_halving

    losses = {arch_hash(c): [curve_value(c, b) for b in RUNGS] for c in CURVES}
    kept = replay_halving(losses, RUNGS, 2)
    assert set(kept) == {k for k, (status, _) in by_hand(CURVES, RUNGS, 2).items() if status == "ok"}
    assert kept == sorted(kept, key=lambda k: losses[k][-1])


def test_the_recommended_pipeline_runs_from_the_command_line_within_its_budget(tmp_path):
    """search.py ... train=multifidelity: rungs of real (tiny) training on the pruner, the finalists looked up in the
    benchmark (train.full=auto), and never more steps than train.budget full trainings."""
    import json

    from apprun import search

    full = 64
    search(tmp_path, "search.pool=benchmark", "search.budget=6", "train=multifidelity", "train.budget=1.5",
           f"train.full_steps={full}", "train.pruner.min_resource=2", "+train.rnn.model.emsize=16", "+train.rnn.model.nhid=24",
           "train.rnn.batch_size=4", "train.rnn.bptt=8", "train.rnn.eval_max_tokens=100")
    best = json.loads((tmp_path / "best.json").read_text())
    finals = [e for e in best if e.get("full_result") is not None]
    assert len(finals) == 1 and best[0] is not None and best[0]["full_result"] == best[0]["benchmark"]["test_loss"]
    trained = [e for e in best if e.get("train_steps")]
    spent = sum(e["train_steps"] for e in trained) + sum(full - e["train_steps"] for e in finals)
    assert trained and spent <= 1.5 * full
    study = optuna.load_study(study_name="tfnas-trained-multifidelity", storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert {t.user_attrs["hash"] for t in study.trials} == {e["hash"] for e in trained}
