"""Short training of RNN-space candidates: learning, exact resume, divergence, the train=short stage."""
import csv
import json

import pytest
import torch

from tfnas.search_spaces.nas_bench_nlp import Recipe
from tfnas.tracking import Tracker
from tfnas.training import Budget, ShortTraining, train_candidate
from tfnas.search_spaces.nas_bench_nlp.trainer import RNNLanguageModelTrainer

OPTS = {"batch_size": 8, "bptt": 12, "eval_max_tokens": 400}
TANH = {"f": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": {"op": "activation_tanh", "input": ["f"]}}
LEAKY = {"f": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": {"op": "activation_leaky_relu", "input": ["f"]}}


def trainer(space, recipe=TANH, **options):
    return RNNLanguageModelTrainer(space, Recipe.from_json(recipe), seed=0, device=torch.device("cpu"), options={**OPTS, **options})


def test_tiny_model_loss_goes_down(tiny_rnn_space, tmp_path):
    t = trainer(tiny_rnn_space, lr=3e-3)
    before = t.evaluate()["eval_loss"]
    result = train_candidate(t, Budget(steps=40), tmp_path, fingerprint={}, log_every=1)
    assert result.status == "ok" and result.steps == 40
    assert result.values["eval_loss"] < before - 0.3
    rows = list(csv.DictReader(open(tmp_path / "curve.csv")))
    train = [float(r["value"]) for r in rows if r["name"] == "train_loss"]
    assert len(train) == 40 and sum(train[-5:]) < sum(train[:5])
    assert (tmp_path / "checkpoint" / "model.safetensors").exists()


def test_resume_continues_the_same_run(tiny_rnn_space, tmp_path):
    whole = trainer(tiny_rnn_space)
    r_whole = train_candidate(whole, Budget(steps=8), tmp_path / "whole", fingerprint={"a": 1}, checkpoint_every=4)
    # a run stopped after its step-4 checkpoint, then resumed by a fresh process-like setup
    first = trainer(tiny_rnn_space)
    train_candidate(first, Budget(steps=4), tmp_path / "split", fingerprint={"a": 1}, checkpoint_every=4)
    torch.manual_seed(12345)  # whatever happened in between must not matter
    resumed = trainer(tiny_rnn_space)
    r_resumed = train_candidate(resumed, Budget(steps=8), tmp_path / "split", fingerprint={"a": 1}, checkpoint_every=4)
    assert r_resumed.resumed_from == 4 and r_resumed.steps == 8
    for (name, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert r_resumed.values == r_whole.values
    # other settings never load a checkpoint that is not theirs
    other = trainer(tiny_rnn_space)
    assert train_candidate(other, Budget(steps=2), tmp_path / "split", fingerprint={"a": 2}).resumed_from is None


def test_diverging_candidate_is_reported_failed(tiny_rnn_space, tmp_path):
    result = train_candidate(trainer(tiny_rnn_space, LEAKY, lr=100.0, recurrent_weights="trained"), Budget(steps=8),
                             tmp_path, fingerprint={})
    assert result.status == "failed" and "non-finite" in result.error
    # the report names the step and what went non-finite (a tensor of the step or a parameter's gradient)
    assert 1 <= result.diverged_at <= 8 and f"at step {result.diverged_at}" in result.error
    assert result.offending and any(word in result.offending for word in ("layer", "logits", "gradient", "term", "parameters"))
    assert result.offending in result.error


class Recorder(Tracker):
    def __init__(self):
        self.calls = []

    def log_training(self, candidate, step, values):
        self.calls.append((candidate["hash"], step, dict(values)))


def entry(space, recipe, rank, score):
    arch = Recipe.from_json(recipe)
    return {"rank": rank, "hash": arch.hash, "score": score, "undefined": False, "arch": arch.to_json()}


def test_stage_ranks_by_trained_loss_and_survives_divergence(tiny_rnn_space, tmp_path):
    shortlist = [entry(tiny_rnn_space, LEAKY, 1, 5.0), entry(tiny_rnn_space, TANH, 2, 4.0),
                 {**entry(tiny_rnn_space, TANH, 3, 3.0), "hash": "untrained"}]
    stage = ShortTraining(top_k=2, steps=3, rnn={**OPTS, "lr": 100.0, "recurrent_weights": "trained"}, log_every=1)
    tracker = Recorder()
    final = stage.run(tiny_rnn_space, shortlist, tmp_path, torch.device("cpu"), 0, tracker)
    assert [e["search_rank"] for e in final] == [2, 1, 3]
    assert [e["train_status"] for e in final] == ["ok", "failed", "not trained"]
    assert [e["rank"] for e in final] == [1, 2, 3]
    assert "diverged" in final[1]["train_error"]
    rows = list(csv.DictReader(open(tmp_path / "shortlist.csv")))
    assert [r["hash"] for r in rows] == [e["hash"] for e in final]
    assert {h for h, _, _ in tracker.calls} == {shortlist[1]["hash"], shortlist[0]["hash"]}
    assert (tmp_path / "training_curves.csv").exists()
    # re-running the stage in the same run directory reuses the finished training
    again = stage.run(tiny_rnn_space, shortlist, tmp_path, torch.device("cpu"), 0, Recorder())
    assert again[0]["train_resumed_from"] == 3 and again[0]["eval_loss"] == final[0]["eval_loss"]


def test_search_with_train_short_end_to_end(tmp_path, capsys):
    from apprun import search

    search(tmp_path, "search.budget=3", "search.top_k=3", "train=short", "train.top_k=2", "train.steps=3",
           "train.rnn.batch_size=8", "train.rnn.bptt=12", "train.rnn.eval_max_tokens=200")
    assert "trained on PTB valid, evaluated on PTB test" in capsys.readouterr().out
    best = json.load(open(tmp_path / "best.json"))
    assert len(best) == 3 and best[0]["train_status"] == "ok" and best[2]["train_status"] == "not trained"
    # trained candidates first, by loss; a candidate that diverged (some sampled cells explode) follows them
    statuses = [e["train_status"] for e in best[:2]]
    assert statuses in (["ok", "ok"], ["ok", "failed"])
    if statuses == ["ok", "ok"]:
        assert best[0]["eval_loss"] <= best[1]["eval_loss"]
    assert len(list((tmp_path / "train").glob("*/checkpoint/model.safetensors"))) == statuses.count("ok")
    # each trained result reached the study's sibling, with the curve as intermediate values
    import optuna

    trained = optuna.load_study(study_name="tfnas-trained-short", storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert sorted(t.user_attrs["hash"] for t in trained.trials) == sorted(e["hash"] for e in best[:2])
    for t in trained.trials:
        entry = next(e for e in best if e["hash"] == t.user_attrs["hash"])
        if entry["train_status"] == "ok":
            assert t.state.name == "COMPLETE" and t.value == pytest.approx(entry["eval_loss"]) and t.intermediate_values
        else:
            assert t.state.name == "FAIL" and t.user_attrs["fail_reason"].startswith("failed")
    assert trained.metric_names == ["trained_result"]


def test_misspelt_setting_is_a_config_error():
    from tfnas.errors import ConfigError

    with pytest.raises(ConfigError, match="train.stps"):
        ShortTraining(stps=3)
    with pytest.raises(ConfigError, match="train.steps"):
        ShortTraining(steps=None, minutes=None)
