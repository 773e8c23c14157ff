"""The CUDA paths, each beside its CPU twin: every metric of both spaces, models built on the device, packs (search.eval_batch)
equal to one-at-a-time scoring, compiled training, training that resumes, local workers, the bench commands.

A test parametrized over `DEVICES` runs on the CPU in CI (its CPU twin) and on CUDA where a device is present; a CUDA-only
test names its CPU twin in its docstring. Marked `cuda` and skipped with the reason where CUDA is absent. docs/gpu.md records
where they ran; scripts/gpu_check.sh runs them on a GPU machine.
"""
import math

import numpy as np
import pytest
import torch

from apprun import search
from tfnas.metrics import Scorer
from tfnas.metrics.suite import metric_suite

NO_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine (CI has none); see docs/gpu.md")
CUDA = [pytest.mark.cuda, NO_CUDA]
DEVICES = ["cpu", pytest.param("cuda", marks=CUDA)]


@pytest.fixture
def strict_float32():
    """float32 GEMMs and convolutions on CUDA (no TF32), so values compare with the CPU's to float32 rounding."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _close(a: float, b: float, rel: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=rel, abs=1e-9)


def _everything(space):
    return [m for m in metric_suite(space) + metric_suite(space, zoo=True) if m.key != "grasp_full"]


def _same_weights_on_both(space, archs, metrics):
    """Per architecture, (CPU values, CUDA values) of `metrics` on the same weights (built on the CPU, then copied)."""
    needs = set().union(*(m.needs() for m in metrics))
    batch = space.metric_batch()
    out = []
    for arch in archs:
        model = space.build_model(arch, seed=0).eval()
        on_cpu = space.probe(model, batch, needs)
        cpu = {m.key: float(m.compute(on_cpu)) for m in metrics}
        on_cuda = space.probe(model.to("cuda"), {k: v.to("cuda") for k, v in batch.items()} if isinstance(batch, dict)
                              else batch.to("cuda"), needs)
        out.append((cpu, {m.key: float(m.compute(on_cuda)) for m in metrics}))
    return out


@pytest.mark.cuda
@NO_CUDA
def test_every_rnn_metric_on_cuda_equals_the_cpu_values(tiny_rnn_space, strict_float32):
    """CPU twin: tests/unit/test_device_placement.py (every tensor the build, the probe and the metrics make is placed on
    the model's device)."""
    archs = [tiny_rnn_space.sample(np.random.default_rng(i)) for i in range(3)]
    for cpu, gpu in _same_weights_on_both(tiny_rnn_space, archs, _everything(tiny_rnn_space)):
        assert all(_close(cpu[k], gpu[k], 1e-3) for k in cpu), {k: (cpu[k], gpu[k]) for k in cpu if not _close(cpu[k], gpu[k], 1e-3)}


@pytest.mark.cuda
@NO_CUDA
def test_every_bert_metric_on_cuda_equals_the_cpu_values(strict_float32):
    """With real gradients (backward_target=random; under the paper's "ones" target the gradient metrics are float32
    rounding, which no two devices share). CPU twin: tests/unit/test_device_placement.py."""
    from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace

    space = NasBenchBertSpace(batch_size=4, seq_len=16, backward_target="random")
    archs = [space.sample(np.random.default_rng(i)) for i in range(2)]
    for cpu, gpu in _same_weights_on_both(space, archs, _everything(space)):
        assert all(_close(cpu[k], gpu[k], 1e-3) for k in cpu), {k: (cpu[k], gpu[k]) for k in cpu if not _close(cpu[k], gpu[k], 1e-3)}


@pytest.mark.parametrize("device", DEVICES)
def test_packed_scoring_equals_one_at_a_time_for_every_metric(tiny_rnn_space, device):
    """search.eval_batch=N: each architecture's every metric within 1e-5 of one-at-a-time scoring (bit for bit on the CPU)."""
    archs = [tiny_rnn_space.sample(np.random.default_rng(i)) for i in range(6)]
    scorer = Scorer(tiny_rnn_space, _everything(tiny_rnn_space), device=device)
    alone = [scorer(arch) for arch in archs]
    for a, b in zip(alone, scorer.score_many(archs)):
        assert a.undefined == b.undefined
        assert all(_close(a[k], b[k], 1e-5) for k in a.scores), {k: (a[k], b[k]) for k in a.scores if not _close(a[k], b[k], 1e-5)}
        if device == "cpu":
            assert all(a[k] == b[k] or math.isnan(a[k]) for k in a.scores)


@pytest.mark.parametrize("space_name", ["rnn", "bert"])
@pytest.mark.parametrize("device", DEVICES)
def test_shared_parts_builder_equals_a_fresh_build_on_the_device(tiny_rnn_space, space_name, device):
    """The scorer's builder (shared parts once) and a fresh build_model give the same weights and scores on the device."""
    from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace

    space = tiny_rnn_space if space_name == "rnn" else NasBenchBertSpace(batch_size=4, seq_len=16, backward_target="random")
    metrics = metric_suite(space)
    scorer = Scorer(space, metrics, device=device)
    for arch in [space.sample(np.random.default_rng(i)) for i in range(2)]:
        fresh = space.build_model(arch, seed=0, device=device).eval()
        shared = scorer.builder(arch)
        assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), shared.state_dict().values()))
        probe = space.probe(fresh, scorer.batch, scorer.needs)
        expected = {m.key: float(m.compute(probe)) for m in metrics}
        got = scorer(arch).scores
        assert all(_close(expected[k], got[k], 1e-6) for k in got)


@pytest.mark.parametrize("device", DEVICES)
def test_models_are_built_on_the_device_from_their_seed(tiny_rnn_space, device):
    """Every parameter is allocated and drawn on the device; one seed gives the same weights; the global generator is left alone."""
    arch = tiny_rnn_space.sample(np.random.default_rng(0))
    state = torch.get_rng_state()
    first = tiny_rnn_space.model_builder(3, device)(arch)
    again = tiny_rnn_space.build_model(arch, seed=3, device=device)
    assert torch.equal(state, torch.get_rng_state())
    assert all(p.device.type == device for p in first.parameters())
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), again.state_dict().values()))


@pytest.mark.cuda
@NO_CUDA
def test_compiled_training_on_cuda_equals_eager(tiny_rnn_space, tmp_path):
    """Inductor-compiled time steps train like eager ones, to float rounding. CPU twin:
    tests/unit/training/test_training_rnn_compile.py (torch's eager backend, fullgraph, exact)."""
    from tfnas.search_spaces.nas_bench_nlp import load_recipes
    from tfnas.search_spaces.nas_bench_nlp.trainer import RNNLanguageModelTrainer
    from tfnas.training import Budget, train_candidate

    curves = {}
    for flag in (False, True):
        trainer = RNNLanguageModelTrainer(tiny_rnn_space, load_recipes()[1000002], seed=0, device=torch.device("cuda"),
                                          options={"batch_size": 8, "bptt": 12, "eval_max_tokens": 200, "compile": flag})
        curve = curves[flag] = []
        train_candidate(trainer, Budget(steps=3), tmp_path / str(flag), fingerprint={}, log_every=1,
                        on_log=lambda step, values, c=curve: c.append(values.get("train_objective", values.get("eval_loss"))))
        assert trainer.compiled == flag
    assert len(curves[True]) == len(curves[False]) == 4
    assert all(_close(a, b, 1e-4) for a, b in zip(curves[False], curves[True])), curves


@pytest.mark.parametrize("device", DEVICES)
def test_search_with_short_training_resumes_exactly(tmp_path, device):
    args = [f"device={device}", "search.budget=3", "search.top_k=2", "train=short", "train.top_k=1", "train.steps=4",
            "train.rnn.batch_size=8", "train.rnn.bptt=12", "train.rnn.eval_max_tokens=200", "train.rnn.compile=false"]
    first = search(tmp_path / "a", *args)
    again = search(tmp_path / "a", *args)  # same run dir: the search and the training resume, nothing is redone
    assert first["device"] == device and again["evaluated_this_run"] == 0
    assert again["best"]["hash"] == first["best"]["hash"]
    if first["best"].get("train_status") == "ok":
        assert again["best"]["train_resumed_from"] == 4 and again["best"]["eval_loss"] == first["best"]["eval_loss"]


@pytest.mark.cuda
@NO_CUDA
def test_two_local_workers_on_cuda(tmp_path):
    """CPU twin: tests/e2e/test_worker_lifecycle.py (local workers sharing one study)."""
    summary = search(tmp_path / "w", "device=cuda", "search.budget=6", "search.n_workers=2")
    assert summary["evaluated"] >= 6 and summary["failed_workers"] == []


@pytest.mark.cuda
@NO_CUDA
def test_overlapped_builds_on_cuda_equal_one_by_one(tiny_rnn_space):
    """Without packs, the next model is built on a thread while the device probes this one. CPU twin:
    tests/unit/metrics/test_scoring.py::test_score_many_with_overlapped_builds_equals_one_by_one."""
    archs = [tiny_rnn_space.sample(np.random.default_rng(i)) for i in range(4)]
    scorer = Scorer(tiny_rnn_space, metric_suite(tiny_rnn_space), device="cuda", pack=False)
    assert scorer.overlap_builds
    one_by_one = [scorer(a).scores for a in archs]
    for a, b in zip(one_by_one, [e.scores for e in scorer.score_many(archs)]):
        assert all(_close(a[k], b[k], 1e-6) for k in a)


@pytest.mark.parametrize("device", DEVICES)
def test_the_bench_commands_run_on_the_device(device, capsys):
    from tfnas.commands.bench import main

    tiny = '{"model": {"emsize": 16, "nhid": 24}, "batch_size": 8, "seq_len": 12}'
    assert main(["--space", "rnn", "--archs", "2", "--eval-batch", "1,2", "--rounds", "1", "--device", device,
                 "--metrics", "hidden_cov,jacobian_cov", "--space-json", tiny]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| eval_batch=2 |"))
    assert "equal bit for bit" in row or (device == "cuda" and "max relative difference" in row)
    assert main(["--space", "rnn", "--archs", "2", "--build-time", "--device", device, "--space-json", tiny]) == 0
    assert "scorer's builder" in capsys.readouterr().out
