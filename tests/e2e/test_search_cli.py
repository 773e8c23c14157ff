"""The search app end to end on tiny sizes, in-process: outputs, determinism and refused input.
One test starts `python search.py` as a process, for its exit code and its one-line error."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.errors import MissingConfigException

from apprun import TINY, config, search
from tfnas.errors import ConfigError
from tfnas.results import read_results

ROOT = Path(__file__).resolve().parents[2]


def test_random_search_writes_results_best_and_summary(tmp_path, capsys):
    search(tmp_path / "run", "search.budget=6", "search.top_k=3")
    out = capsys.readouterr().out
    run = tmp_path / "run"
    rows = read_results(run)
    assert len(rows) == 6
    assert len({row["hash"] for row in rows}) == 6
    assert all(set(row) >= {"hash", "score", "seconds", "arch", "hidden_cov"} for row in rows)
    best = json.loads((run / "best.json").read_text())
    assert [b["rank"] for b in best] == [1, 2, 3]
    assert best[0]["score"] == max(row["score"] for row in rows)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["evaluated"] == 6 and summary["metric"] == "hidden_cov" and summary["space"] == "rnn"
    assert "tfnas: space=rnn strategy=random metric=hidden_cov budget=6" in out
    assert "tfnas: best" in out


def test_same_seed_same_results(tmp_path):
    outs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        search(tmp_path / name, "search.budget=4", f"seed={seed}")
        outs.append([(r["hash"], r["score"]) for r in read_results(tmp_path / name)])
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]


@pytest.mark.parametrize(
    "override, message",
    [
        ("search.budget=0", "search.budget: must be a positive integer"),
        ("space.batch_size=-3", "space.batch_size: must be a positive integer"),
        ("space.seq_len=100000", "space.seq_len"),
        ("metric.layer=7", "metric.layer: layer 7 does not exist"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message_before_anything_is_written(tmp_path, override, message):
    with pytest.raises(ConfigError) as err:
        search(tmp_path / "bad", "search.budget=2", override)
    assert message in str(err.value)
    assert not (tmp_path / "bad" / "study.db").exists() and not (tmp_path / "bad" / "results.csv").exists()


def test_unknown_config_choice_is_hydras_error():
    with pytest.raises(MissingConfigException, match="metric/no_such_metric"):
        config("metric=no_such_metric")


def test_the_process_exits_2_with_one_line_and_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "search.py", *TINY, f"hydra.run.dir={tmp_path}", "search.budget=0"],
        cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "tfnas: error: search.budget: must be a positive integer (number of architectures to score), got 0"
    )


def test_metric_for_another_space_is_refused_listing_valid_choices():
    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace
    from tfnas.errors import ConfigError
    from tfnas.metrics import METRICS, Metric

    class BertOnly(Metric):
        name = "bert_only"

        def needs(self):
            return {"head_confidence"}

        def compute(self, probe):
            return 0.0

    with pytest.raises(ConfigError, match="does not apply to space 'rnn'.*hidden_cov"):
        BertOnly().check_space(NasBenchNLPSpace())
    assert "hidden_cov" in METRICS.names()


def test_each_space_brings_its_default_metric_and_an_explicit_metric_wins():
    from tfnas.config import compose

    def metric_target(*overrides):
        return compose(list(overrides)).metric._target_

    assert metric_target() == "tfnas.metrics.hidden_cov.HiddenCovariance"
    assert metric_target("space=bert") == "tfnas.metrics.head_confidence.HeadConfidence"
    assert metric_target("space=bert_full") == "tfnas.metrics.head_confidence.HeadConfidence"
    assert metric_target("space=bert", "metric=params") == "tfnas.metrics.params.Parameters"
