"""The CUDA paths: every metric of both spaces, short training with exact resume, and local workers.

Marked `cuda`; skipped with the reason where no CUDA device is present (CI has none). docs/gpu.md
records where they ran.
"""
import math

import numpy as np
import pytest
import torch

from apprun import search
from tfnas.metrics import Scorer
from tfnas.metrics.suite import metric_suite

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine (CI has none); see docs/gpu.md"),
]


def _close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=2e-3, abs=1e-6)


def test_every_rnn_metric_agrees_between_cpu_and_cuda(tiny_rnn_space):
    metrics = metric_suite(tiny_rnn_space)
    archs = [tiny_rnn_space.sample(np.random.default_rng(i)) for i in range(3)]
    cpu = [Scorer(tiny_rnn_space, metrics)(a).scores for a in archs]
    gpu = [Scorer(tiny_rnn_space, metrics, device="cuda")(a).scores for a in archs]
    for c, g in zip(cpu, gpu):
        assert c.keys() == g.keys()
        assert all(_close(c[k], g[k]) for k in c), {k: (c[k], g[k]) for k in c if not _close(c[k], g[k])}


def test_every_bert_metric_runs_on_cuda():
    from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace

    space = NasBenchBertSpace(batch_size=2, seq_len=16)
    arch = space.sample(np.random.default_rng(0))
    cpu = Scorer(space, metric_suite(space))(arch).scores
    gpu = Scorer(space, metric_suite(space), device="cuda")(arch).scores
    assert cpu.keys() == gpu.keys()
    # head/softmax confidences and parameter counts are exact; gradient metrics agree in rank order of magnitude
    for key in ("params", "head_confidence", "head_softmax_confidence"):
        assert _close(cpu[key], gpu[key]), key


def test_overlapped_scoring_on_cuda_equals_one_by_one(tiny_rnn_space):
    metrics = metric_suite(tiny_rnn_space)
    archs = [tiny_rnn_space.sample(np.random.default_rng(i)) for i in range(4)]
    scorer = Scorer(tiny_rnn_space, metrics, device="cuda")
    assert scorer.overlap_builds
    assert [e.scores for e in scorer.score_many(archs)] == [scorer(a).scores for a in archs]


def test_search_with_short_training_resumes_exactly_on_cuda(tmp_path):
    args = ["device=cuda", "search.budget=3", "search.top_k=2", "train=short", "train.top_k=1", "train.steps=4",
            "train.rnn.batch_size=8", "train.rnn.bptt=12", "train.rnn.eval_max_tokens=200"]
    first = search(tmp_path / "a", *args)
    again = search(tmp_path / "a", *args)  # same run dir: the search and the training resume, nothing is redone
    assert first["device"] == "cuda" and again["evaluated_this_run"] == 0
    assert again["best"]["hash"] == first["best"]["hash"]
    if first["best"].get("train_status") == "ok":
        assert again["best"]["train_resumed_from"] == 4 and again["best"]["eval_loss"] == first["best"]["eval_loss"]


def test_two_local_workers_on_cuda(tmp_path):
    summary = search(tmp_path / "w", "device=cuda", "search.budget=6", "search.n_workers=2")
    assert summary["evaluated"] >= 6 and summary["failed_workers"] == []
