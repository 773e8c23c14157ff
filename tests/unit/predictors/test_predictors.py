"""Predictors: a registry plus a config group; what each orders first; the guard that sets degenerate cells aside."""
import csv
import json
import math

import numpy as np
import pytest

from tfnas.candidates import rank_candidates, ranked_entries
from tfnas.config import group_options, load_group_config
from tfnas.predictors import PREDICTORS
from tfnas.results import Record

MISSION_CELL = "1011292"  # hidden covariance's favourite in the mission's search; trains to a PTB loss of 6.216


def test_every_predictor_is_registered_and_has_a_config():
    names = PREDICTORS.names()
    assert {"score", "random", "ensemble"} <= set(names)
    assert set(group_options("predictor")) == set(names)
    for name in names:
        target = load_group_config("predictor", name)["_target_"]
        assert target.rsplit(".", 1)[1] == PREDICTORS.get(name).__name__


def _records(values):
    return [Record(i, f"h{i}", v, not math.isfinite(v), 0.0, {"m": v}, {}) for i, v in enumerate(values)]


class _Metric:
    key, higher_is_better = "m", False


def test_the_score_predictor_follows_the_metrics_direction_and_puts_undefined_last():
    from tfnas.predictors.score import ScorePredictor

    predictor = ScorePredictor(structural_guard=False)
    predictor.bind(None, _Metric(), 0)
    records = _records([3.0, math.inf, 1.0, 2.0])
    order, reasons = rank_candidates(None, records, predictor)
    assert order == [2, 3, 0, 1] and reasons == [None, "undefined score", None, None]


def test_the_random_predictor_is_a_seeded_order_of_the_hashes():
    from tfnas.predictors.random import RandomPredictor

    records = _records([1.0] * 30)
    orders = []
    for seed in (0, 0, 1):
        predictor = RandomPredictor()
        predictor.bind(None, _Metric(), seed)
        orders.append(rank_candidates(None, records, predictor)[0])
    assert orders[0] == orders[1] != orders[2]
    assert rank_candidates(None, records[::-1], predictor)[0] != orders[2]  # by hash, not by position
    shuffled = [records[::-1][i].hash for i in rank_candidates(None, records[::-1], predictor)[0]]
    assert shuffled == [records[i].hash for i in orders[2]]


def test_the_space_sets_aside_a_cell_whose_output_never_sees_the_current_token(tiny_rnn_space):
    from tfnas.labels import known_architectures
    from tfnas.predictors.score import ScorePredictor

    cells = known_architectures(tiny_rnn_space)
    assert tiny_rnn_space.degenerate(cells[MISSION_CELL]) is not None
    assert tiny_rnn_space.degenerate(cells["1010120"]) is None  # its output reads x through a tanh and a linear
    ids = [MISSION_CELL, "1010120", "1004247"]
    records = [Record(i, tiny_rnn_space.hash(cells[c]), -1000.0 * (3 - i), False, 0.0, {"hidden_cov": -1000.0 * (3 - i)},
                      tiny_rnn_space.to_json(cells[c])) for i, c in enumerate(ids)]
    records[0].score = records[0].metrics["hidden_cov"] = 0.0  # the best score by far
    metric = type("HiddenCov", (), {"key": "hidden_cov", "higher_is_better": True})()
    for guard, first in ((True, 2), (False, 0)):
        predictor = ScorePredictor(structural_guard=guard)
        predictor.bind(tiny_rnn_space, metric, 0)
        entries, account = ranked_entries(tiny_rnn_space, records, predictor)
        assert entries[0]["hash"] == records[first].hash
        assert account["set_aside"] == (1 if guard else 0)
        assert ("set_aside" in entries[-1]) == guard  # set aside: ranked last, with the reason


def test_a_search_counts_the_cells_the_guard_set_aside(tmp_path):
    from apprun import search

    summary = search(tmp_path, "search.pool=benchmark", "search.budget=40", "search.top_k=5", "seed=3")
    best = json.loads((tmp_path / "best.json").read_text())
    rows = list(csv.DictReader(open(tmp_path / "results.csv")))
    flagged = sum(_degenerate(r["arch"]) for r in rows)
    assert flagged and summary["guard"]["set_aside"] == flagged
    assert all("set_aside" not in e for e in best)  # 5 shortlisted of 40: none of the set-aside ones


def _degenerate(arch_json: str) -> bool:
    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace, Recipe

    return NasBenchNLPSpace.degenerate(None, Recipe.from_json(json.loads(arch_json))) is not None


def test_an_unknown_predictor_is_refused_before_anything_is_written(tmp_path):
    from apprun import search

    with pytest.raises(Exception) as err:
        search(tmp_path / "run", "predictor=oracle")
    assert "predictor" in str(err.value) and not (tmp_path / "run").exists()


def test_ensemble_predictor_metrics_must_name_metric_configs():
    from tfnas.errors import ConfigError
    from tfnas.predictors.ensemble import EnsemblePredictor

    predictor = EnsemblePredictor(metrics={"rnn": ["hidden_covv"]})
    space = type("S", (), {"name": "rnn"})()
    with pytest.raises(ConfigError, match="predictor.metrics"):
        predictor.scoring_metrics(space)
    assert np.isfinite(EnsemblePredictor.over([("a", True)]).query(_records([1.0, 2.0]))).all()
