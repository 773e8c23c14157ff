"""strategy=ensemble: the calibrated rank ensemble (tfnas/ensemble.py) and its resumable trainings."""
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest

from tfnas.ensemble import BayesianRanker, factor_weights, prior_weights, signed_ranks

from apprun import TINY

ROOT = Path(__file__).resolve().parents[3]


def synthetic(n=400, m=4, seed=0, weights=(1.0, -0.6, 0.0, 2.0), noise=0.3):
    """Metric values whose ranks combine linearly, with known weights, into the target (higher is better)."""
    rng = np.random.default_rng(seed)
    values = rng.lognormal(size=(n, m)) * np.array([1, 1e3, 1e-3, 50])  # wildly different scales
    z = signed_ranks(values, [True] * m)
    target = z @ np.array(weights) + noise * rng.normal(size=n)
    return values, z, target


def test_signed_ranks_orient_scale_and_put_undefined_last():
    values = np.array([[1.0, 5.0], [3.0, np.inf], [2.0, 1.0], [np.nan, 2.0]])
    z = signed_ranks(values, [True, False])
    assert list(np.argsort(-z[:, 0])) == [1, 2, 0, 3]  # nan ranks worst
    assert list(np.argsort(-z[:, 1])) == [2, 3, 0, 1]  # lower is better, inf worst
    assert np.allclose(z.std(axis=0), 1.0) and np.allclose(z.mean(axis=0), 0.0)


def test_the_ensemble_recovers_known_weights():
    weights = np.array([1.0, -0.6, 0.0, 2.0])
    _, z, target = synthetic(weights=weights)
    model = BayesianRanker(prior_weights(4)).fit(z, target)
    fitted = model.mean / np.linalg.norm(model.mean)
    assert np.dot(fitted, weights / np.linalg.norm(weights)) > 0.99
    assert np.allclose(fitted, weights / np.linalg.norm(weights), atol=0.05)
    assert np.sign(model.mean[1]) == -1  # a metric whose declared direction is wrong gets a negative weight


def records_of(values, healthy=None):
    """Scored records whose metric values are the columns of `values` (m0, m1, ...); unhealthy ones get an undefined guard."""
    from tfnas.results import Record

    guard = [1.0 if healthy is None or healthy[i] else math.nan for i in range(len(values))]
    return [Record(i, str(i), 0.0, False, 0.0, {**{f"m{j}": float(v) for j, v in enumerate(row)}, "guard": guard[i]}, {})
            for i, row in enumerate(values)]


def spend_with(values, target, budget, healthy=None, done=(), **options):
    """Spend `budget` trainings with the ensemble predictor over `values`' columns; returns (the indices trained, the predictor)."""
    from tfnas.predictors.ensemble import EnsemblePredictor
    from tfnas.training.base import StageContext
    from tfnas.training.sequential import spend

    records = records_of(values, healthy)
    predictor = EnsemblePredictor.over([(f"m{j}", True) for j in range(values.shape[1])], ["guard"], structural_guard=False,
                                       **options)
    calls = []
    context = StageContext(records, predictor, None, None)
    entries = [{"hash": r.hash} for r in records]

    def train(entry):
        calls.append(int(entry["hash"]))
        return float(target[int(entry["hash"])])

    trained = spend(None, entries, context, budget, train, "test", "target", True) if not done else None
    return calls, predictor, trained


def test_thompson_trainings_find_the_best_where_the_prior_is_wrong():
    """The equal-weight prior ranks by all metrics; the truth rewards metric 3 and punishes metric 1."""
    weights = np.array([0.0, -2.0, 0.0, 2.0])
    values, z, target = synthetic(n=300, weights=weights, noise=0.1, seed=1)
    prior_pick = int(np.argmax(z @ prior_weights(4)))
    assert target[prior_pick] < np.quantile(target, 0.9)  # the prior alone does not find it
    calls, predictor, _ = spend_with(values, target, 25, exploration="thompson")
    assert len(calls) == len(set(calls)) == 25
    assert calls[0] == prior_pick  # the first training is the prior's pick
    assert max(target[calls]) >= np.quantile(target, 0.99)
    assert predictor.model.model.mean[3] > 0 > predictor.model.model.mean[1]


def test_the_factor_prior_weighs_metrics_by_their_agreement_without_labels():
    """Three noisy views of one factor (one of them declared in the wrong direction) and pure noise:
    the one-factor prior orders them by their loadings, flips the wrong sign and ignores the noise."""
    rng = np.random.default_rng(0)
    factor = rng.normal(size=400)
    columns = [0.9 * factor + 0.4 * rng.normal(size=400), 0.6 * factor + 0.8 * rng.normal(size=400),
               -0.7 * factor + 0.7 * rng.normal(size=400), rng.normal(size=400)]
    w = factor_weights(signed_ranks(np.stack(columns, 1), [True] * 4))
    assert w[0] > abs(w[2]) > w[1] > 0 > w[2]
    assert abs(w[3]) < 0.05 and np.abs(w).sum() == pytest.approx(1.0)
    assert np.allclose(factor_weights(np.ones((5, 3))), prior_weights(3))  # no spread: the rank average


def test_an_unknown_prior_is_refused():
    from tfnas.errors import ConfigError
    from tfnas.predictors.ensemble import EnsemblePredictor

    with pytest.raises(ConfigError, match="predictor.prior"):
        EnsemblePredictor(metrics={"rnn": ["hidden_cov"]}, prior="learned")


def test_calibrate_from_keeps_the_prior_until_that_many_trainings():
    """With calibrate_from=3 the first three trainings are the prior's top three; with 2, the third follows a fit."""
    values, z, target = synthetic(n=300, weights=(0.0, -2.0, 0.0, 2.0), noise=0.1, seed=1)
    prior_top = list(np.argsort(-(z @ prior_weights(4)), kind="stable")[:3])
    picks = {start: spend_with(values, target, 3, calibrate_from=start)[0] for start in (2, 3)}
    assert picks[3] == prior_top and picks[2][:2] == prior_top[:2] and picks[2][2] != prior_top[2]


def test_a_calibrate_from_below_two_is_refused():
    from tfnas.errors import ConfigError
    from tfnas.predictors.ensemble import EnsemblePredictor

    with pytest.raises(ConfigError, match="predictor.calibrate_from"):
        EnsemblePredictor(metrics={"rnn": ["hidden_cov"]}, calibrate_from=1)


def test_degenerate_candidates_are_never_trained_while_healthy_ones_remain():
    values, z, target = synthetic(n=50, seed=2)
    healthy = np.ones(50, bool)
    top = np.argsort(-(z @ prior_weights(4)))[:5]
    healthy[top] = False
    calls, _, _ = spend_with(values, target, 20, healthy=healthy)
    assert len(calls) == 20 and not set(calls) & set(top.tolist())


def test_done_trainings_count_and_are_not_repeated(tmp_path):
    """Trainings an earlier run finished are read back from the stage's trained study, in order, and never repeated."""
    from tfnas.predictors.ensemble import EnsemblePredictor
    from tfnas.store import EvaluationStore
    from tfnas.store.trained import TrainedResults
    from tfnas.training.base import StageContext
    from tfnas.training.sequential import spend

    values, _, target = synthetic(n=60, seed=3)
    records = records_of(values)
    store = EvaluationStore(f"sqlite:///{tmp_path / 'study.db'}", "tfnas", ["maximize"], "score")
    trained = TrainedResults(store, None)
    for key, value in (("5", float(target[5])), ("9", None)):  # one finished training, one that failed
        trained.log_trained({"hash": key, "target": value, "train_status": "ok" if value is not None else "failed"},
                            "test", "target", True)
    predictor = EnsemblePredictor.over([(f"m{j}", True) for j in range(4)], structural_guard=False)
    calls = []
    out = spend(None, [{"hash": r.hash} for r in records], StageContext(records, predictor, trained, None), 6,
                lambda e: calls.append(int(e["hash"])) or float(target[int(e["hash"])]), "test", "target", True)
    assert len(out) == 6 and len(calls) == 4 and not {5, 9} & set(calls)
    assert [e["hash"] for e in out[:2]] == ["5", "9"] and out[1]["train_status"] == "failed"


def search_cmd(run_dir, *overrides):
    tiny = TINY
    return [sys.executable, str(ROOT / "search.py"), *tiny, "strategy=ensemble", "search.pool=benchmark", "search.budget=8",
            "train=benchmark", "train.budget=6", "train._target_=tests.slow_stage.SlowLookup", f"hydra.run.dir={run_dir}", *overrides]


def test_resume_after_sigkill_neither_loses_nor_repeats_a_training(tmp_path, monkeypatch):
    run_dir, log = tmp_path / "run", tmp_path / "trainings.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "TFNAS_TEST_TRAIN_LOG": str(log),
           "TFNAS_TEST_TRAIN_SECONDS": "0.25"}
    proc = subprocess.Popen(search_cmd(run_dir), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        lines = log.read_text().splitlines() if log.exists() else []
        if sum(line.startswith("done") for line in lines) >= 2 and lines[-1].startswith("start"):
            break  # killed in the middle of the third (or later) training
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = log.read_text().splitlines()
    done_before = [line.split()[1] for line in first if line.startswith("done")]
    assert 2 <= len(done_before) < 6, "the run must be killed mid-way through its trainings"
    study = optuna.load_study(study_name="tfnas-trained-benchmark", storage=f"sqlite:///{run_dir / 'study.db'}")
    stored = [t.user_attrs["hash"] for t in sorted(study.trials, key=lambda t: t.number) if t.state.is_finished()]
    assert stored == done_before  # every finished training was stored (a trial of the trained study) before the kill

    from apprun import search  # the resume is a plain start: in this process

    for name in ("TFNAS_TEST_TRAIN_LOG", "TFNAS_TEST_TRAIN_SECONDS"):
        monkeypatch.setenv(name, env[name])
    search(run_dir, *search_cmd(run_dir)[2:])
    lines = log.read_text().splitlines()
    done = [line.split()[1] for line in lines if line.startswith("done")]
    assert len(done) == 6 and len(set(done)) == 6  # nothing repeated, the budget met
    assert done[: len(done_before)] == done_before  # nothing lost
    best = json.loads((run_dir / "best.json").read_text())
    trained = sorted((e for e in best if "train_order" in e), key=lambda e: e["train_order"])
    assert [e["hash"] for e in trained] == done
    values = [e["trained_result"] for e in trained]
    assert best[0]["trained_result"] == min(values)  # the shortlist leads with the best trained (PTB loss: lower)
    assert all(e["trained_result"] == e["benchmark"]["test_loss"] for e in trained)


def test_an_ensemble_without_a_training_budget_is_refused_before_anything_is_written(tmp_path):
    from hydra import compose, initialize_config_dir

    from tfnas.app import run
    from tfnas.errors import ConfigError

    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["strategy=ensemble", "train=benchmark"])
        none = compose("config", overrides=["strategy=ensemble"])
    with pytest.raises(ConfigError, match="train.budget"):
        run(cfg, tmp_path / "a")
    with pytest.raises(ConfigError, match="train=benchmark"):
        run(none, tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_the_ensemble_spends_its_budget_on_short_trainings(tmp_path):
    """train=short: each training is a real (tiny) training run, ranked by its evaluation loss."""
    from hydra import compose, initialize_config_dir

    from tfnas.app import run

    tiny = TINY
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        # seed=1: the two cells the ensemble trains do not diverge (seed 0's choice includes a cell that explodes)
        cfg = compose("config", overrides=[*tiny, "seed=1", "strategy=ensemble", "search.budget=4", "train=short", "train.steps=3",
                                           "train.budget=2", "+train.rnn.model.emsize=16", "+train.rnn.model.nhid=24",
                                           "train.rnn.eval_max_tokens=500"])
    summary = run(cfg, tmp_path)
    best = json.loads((tmp_path / "best.json").read_text())
    trained = [e for e in best if "train_order" in e]
    assert len(trained) == 2 and all(e["train_status"] == "ok" for e in trained)
    assert best[0]["trained_result"] == min(e["trained_result"] for e in trained)
    assert all((tmp_path / "train" / e["hash"]).is_dir() for e in trained)
    assert summary["best"]["hash"] == best[0]["hash"]
