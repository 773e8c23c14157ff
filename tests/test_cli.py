"""`python search.py ...` end to end on tiny sizes: outputs, determinism and refused input."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tfnas.results import read_results

ROOT = Path(__file__).resolve().parents[1]
TINY = ["space.model.emsize=16", "space.model.nhid=24", "space.batch_size=8", "space.seq_len=12"]


def run_search(run_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "search.py", *TINY, f"hydra.run.dir={run_dir}", *overrides],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def test_random_search_writes_results_best_and_summary(tmp_path):
    proc = run_search(tmp_path / "run", "search.budget=6", "search.top_k=3")
    assert proc.returncode == 0, proc.stderr
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
    assert "tfnas: space=rnn strategy=random metric=hidden_cov budget=6" in proc.stdout
    assert "tfnas: best" in proc.stdout


def test_same_seed_same_results(tmp_path):
    outs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        assert run_search(tmp_path / name, "search.budget=4", f"seed={seed}").returncode == 0
        outs.append([(r["hash"], r["score"]) for r in read_results(tmp_path / name)])
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]


@pytest.mark.parametrize(
    "override, message",
    [
        ("search.budget=0", "search.budget: must be a positive integer"),
        ("metric=no_such_metric", "Could not find 'metric/no_such_metric'"),
        ("space.batch_size=-3", "space.batch_size: must be a positive integer"),
        ("space.seq_len=100000", "space.seq_len"),
        ("metric.layer=7", "metric.layer: layer 7 does not exist"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(tmp_path, override, message):
    proc = run_search(tmp_path / "bad", "search.budget=2", override)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_metric_for_another_space_is_refused_listing_valid_choices():
    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace
    from tfnas.errors import ConfigError
    from tfnas.metrics import METRICS, Metric

    class BertOnly(Metric):
        name = "bert_only"
        spaces = ("bert",)

        def compute(self, probe):
            return 0.0

    with pytest.raises(ConfigError, match="does not apply to space 'rnn'.*hidden_cov"):
        BertOnly().check_space(NasBenchNLPSpace().name)
    assert "hidden_cov" in METRICS.names()


def test_each_space_brings_its_default_metric_and_an_explicit_metric_wins():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def metric_target(*overrides):
        out = subprocess.run([sys.executable, "search.py", *overrides, "--cfg", "job"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        return lines[lines.index("metric:") + 1].strip()

    assert metric_target() == "_target_: tfnas.metrics.hidden_covariance.HiddenCovariance"
    assert metric_target("space=bert") == "_target_: tfnas.metrics.head_confidence.HeadConfidence"
    assert metric_target("space=bert_full") == "_target_: tfnas.metrics.head_confidence.HeadConfidence"
    assert metric_target("space=bert", "metric=params") == "_target_: tfnas.metrics.parameters.Parameters"
