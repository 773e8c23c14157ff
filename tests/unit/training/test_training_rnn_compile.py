"""train.rnn.compile: the cells' time step through torch.compile gives the eager step's losses.

On the CPU the test compiles with torch's "eager" backend and fullgraph=True: every recipe step is captured as one
graph (a break would fall back to slow per-op execution on a GPU) and the trainer's plumbing (compiled while
training, eager while evaluating, out of the checkpoint fingerprint) is exercised. Inductor's code generation takes
tens of seconds per cell on this CPU; its equality test is in tests/e2e/test_cuda.py, marked cuda.
"""
import pytest
import torch

from tfnas.errors import ConfigError
from tfnas.search_spaces.nas_bench_nlp import load_recipes
from tfnas.search_spaces.nas_bench_nlp.recipe_cell import RecipeCell
from tfnas.search_spaces.nas_bench_nlp.trainer import RNNLanguageModelTrainer
from tfnas.training import Budget, train_candidate

OPTS = {"batch_size": 8, "bptt": 12, "eval_max_tokens": 200}
GRU = load_recipes()[1000002]  # linear nodes reading x, h_prev and inner nodes; sigmoid, tanh, product, blend


def losses(space, tmp_path, compile_flag, device="cpu", steps=3):
    trainer = RNNLanguageModelTrainer(space, GRU, seed=0, device=torch.device(device),
                                      options={**OPTS, "compile": compile_flag})
    curve = []
    result = train_candidate(trainer, Budget(steps=steps), tmp_path, fingerprint={}, log_every=1,
                             on_log=lambda step, values: curve.append(values.get("train_objective", values.get("eval_loss"))))
    return trainer, curve, result


def test_compiled_steps_train_exactly_like_eager_steps(tiny_rnn_space, tmp_path, monkeypatch):
    def capture_whole(cell, mode="default"):  # the trainer's compile, with the eager backend and no graph break allowed
        cell._compiled_step = torch.compile(cell.step, backend="eager", fullgraph=True, dynamic=False)

    eager, eager_curve, _ = losses(tiny_rnn_space, tmp_path / "eager", False)
    monkeypatch.setattr(RecipeCell, "compile_step", capture_whole)
    compiled, compiled_curve, result = losses(tiny_rnn_space, tmp_path / "compiled", True)
    assert compiled.compiled and not eager.compiled and result.status == "ok"
    assert all(cell._compiled_step is not None for cell in compiled.model.cells)
    assert compiled_curve == eager_curve  # every step's objective and the final evaluation
    assert "compile" not in compiled.options  # not part of the checkpoint fingerprint


def test_compile_is_on_for_cuda_only_by_default_and_checked(tiny_rnn_space):
    from tfnas.search_spaces.nas_bench_nlp.trainer import compile_choice

    assert compile_choice(None, torch.device("cuda")) and not compile_choice(None, torch.device("cpu"))
    with pytest.raises(ConfigError, match="train.rnn.compile"):
        RNNLanguageModelTrainer(tiny_rnn_space, GRU, seed=0, device=torch.device("cpu"),
                                options={**OPTS, "compile": "yes"})
