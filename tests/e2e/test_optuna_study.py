"""The study as Optuna's own tools see it: readable params, metric names, undefined scores as FAIL
trials, trained results in a sibling study, and Optuna's plots built from a plain `load_study`."""
import math

import optuna
import pytest
from apprun import search

from tfnas.store import EvaluationStore
from tfnas.store.trained import trained_study_name

READABLE = ["hidden_tuple_size", "num_nodes", "num_linear", "num_blend", "num_elementwise"]


@pytest.fixture(scope="module")
def benchmark_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("study") / "run"
    summary = search(run_dir, "search.budget=8", "search.pool=benchmark", "train=benchmark", "search.top_k=3")
    return run_dir, summary


def test_every_evaluation_carries_readable_params_and_the_metric_name(benchmark_run):
    run_dir, summary = benchmark_run
    study = optuna.load_study(study_name="tfnas", storage=f"sqlite:///{run_dir / 'study.db'}")
    assert study.metric_names == ["hidden_cov"]
    evaluations = [t for t in study.trials if EvaluationStore.is_evaluation(t)]
    assert len(evaluations) == summary["evaluated"] == 8
    for trial in evaluations:
        assert set(READABLE) <= set(trial.params)
        assert isinstance(trial.distributions["num_nodes"], optuna.distributions.IntDistribution)
        if trial.state.name == "FAIL":  # an undefined score: the reason is kept, and the summary counts it
            assert trial.user_attrs["fail_reason"].startswith("undefined score")
    failed = sum(t.state.name == "FAIL" for t in evaluations)
    assert failed == summary["undefined"]


def test_trained_results_arrive_in_the_sibling_study(benchmark_run):
    run_dir, summary = benchmark_run
    url = f"sqlite:///{run_dir / 'study.db'}"
    trained = optuna.load_study(study_name=trained_study_name("tfnas", "benchmark"), storage=url)
    assert trained.metric_names == ["benchmark_test_loss"]
    assert trained.direction == optuna.study.StudyDirection.MINIMIZE
    trials = trained.trials
    assert len(trials) == 3  # the whole shortlist: every one is a benchmark member
    search_study = optuna.load_study(study_name="tfnas", storage=url)
    for trial in trials:
        source = search_study.trials[trial.user_attrs["evaluation_trial"]]
        assert source.user_attrs["hash"] == trial.user_attrs["hash"]
        assert math.isclose(trial.value, trial.user_attrs["benchmark_test_loss"])
        assert set(READABLE) <= set(trial.params)


def test_plain_optuna_draws_history_and_importances(benchmark_run):
    from matplotlib import pyplot as plt
    from optuna.visualization import matplotlib as ovm

    run_dir, _ = benchmark_run
    study = optuna.load_study(study_name="tfnas", storage=f"sqlite:///{run_dir / 'study.db'}")
    history = ovm.plot_optimization_history(study)
    points = sum(len(c.get_offsets()) for c in history.collections)
    assert points >= sum(t.state.name == "COMPLETE" for t in study.trials)
    importances = ovm.plot_param_importances(study, params=READABLE)
    labels = {t.get_text() for t in importances.get_yticklabels()}
    assert labels and labels <= set(READABLE)
    plt.close("all")
