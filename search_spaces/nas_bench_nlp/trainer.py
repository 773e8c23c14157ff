"""NAS-Bench-NLP's language-model training for the RNN space, shortened.

As in the benchmark (spec: nas_bench_nlp.md; NAS-Bench-NLP's released `train.py`): Adam lr 1e-3,
weight decay 1.2e-6, batch 20, gradient clip 0.25, the model's dropouts, AR/TAR with alpha=2 (on
the dropped output of the last layer) and beta=1 (on its raw output), the hidden state carried
(detached) from one window to the next and reset at each epoch, and two details that decide
whether training stays finite:

- `bptt_mode: variable` (the benchmark's, from AWD-LSTM): each window's length is drawn from
  N(bptt, 5) (N(bptt/2, 5) with probability 0.05), at least 5, and the learning rate of that step
  is scaled by length / bptt. The draw depends only on (seed, step). `fixed` uses `bptt` always.
- `recurrent_weights: frozen` (the benchmark's): the weights that read hidden vectors (every
  input of a `linear` other than `x`) keep their initial values and get only weight drop. The
  benchmark's `ParameterListWeightDrop` follows AWD-LSTM's `WeightDrop`, which re-wraps the
  dropped weight in a new `torch.nn.Parameter` at every forward; that cuts the graph, so the raw
  weight never receives a gradient (the same effect is documented for AWD-LSTM-style weight
  dropout in fastai PR #427). With these weights trained by Adam (`recurrent_weights: trained`)
  cells such as 1005786 (`h = z * tanh(z)`) explode within ~20 steps: Adam's sign-like first
  updates add a rank-one block of spectral norm ~ lr * sqrt(rows * cols) per step to a
  hidden-to-hidden matrix. The benchmark trained that cell for 50 epochs to a PTB loss of 4.85.

Penn Treebank's training split is not shipped: the model trains on one of the shipped splits
(valid by default) and is evaluated on the other (test), which is the benchmark's own target split.
With `space.corpus`, the defaults are the corpus's train and valid splits.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_model, save_model

from tfnas.search_spaces.nas_bench_nlp.model import RNNLanguageModel
from tfnas.data import batchify
from tfnas.errors import ConfigError
from tfnas.training.trainer import Trainer

WEIGHTS_FILE = "model.safetensors"

DEFAULTS = {
    "lr": 1e-3,
    "weight_decay": 1.2e-6,
    "batch_size": 20,
    "bptt": 70,
    "bptt_mode": "variable",  # variable (the benchmark's: N(bptt, 5) lengths, lr scaled by length/bptt) | fixed
    "recurrent_weights": "frozen",  # frozen (the benchmark's: see the module docstring) | trained
    "clip": 0.25,
    "alpha": 2.0,
    "beta": 1.0,
    "train_split": None,  # None: PTB valid, or train of space.corpus
    "eval_split": None,  # None: PTB test, or valid of space.corpus
    "eval_batch_size": 10,
    "eval_max_tokens": None,  # None: the whole evaluation split
    "model": {},  # overrides of the space's model sizes/dropouts (emsize, nhid, nlayers, dropout, ...)
    "compile": None,  # torch.compile the cells' time step during training: None (on CUDA only) | true | false
}


class RNNLanguageModelTrainer(Trainer):
    """Truncated-BPTT training of the cell's language model; evaluation loss in nats/token."""

    def __init__(self, space, arch, *, seed, device, options):
        super().__init__(space, arch, seed=seed, device=device, options=self.resolve(space, options))
        opts = self.options
        train_tokens, eval_tokens = self.check_data(space, opts)
        corpus = space.corpus
        self.train_data = batchify(train_tokens, int(opts["batch_size"])).to(self.device)
        self.eval_data = batchify(eval_tokens, int(opts["eval_batch_size"])).to(self.device)
        if opts["eval_max_tokens"]:
            rows = max(2, int(opts["eval_max_tokens"]) // int(opts["eval_batch_size"]) + 1)
            self.eval_data = self.eval_data[:rows]
        self.bptt = int(opts["bptt"])
        if opts["bptt_mode"] not in ("variable", "fixed"):
            raise ConfigError("train.rnn.bptt_mode", f"must be variable or fixed, got {opts['bptt_mode']!r}")
        if opts["recurrent_weights"] not in ("frozen", "trained"):
            raise ConfigError("train.rnn.recurrent_weights", f"must be frozen or trained, got {opts['recurrent_weights']!r}")
        self.windows = (self.train_data.size(0) - 1) // self.bptt
        if getattr(space, "corpus_path", None):
            self.data_note = f"trained on {corpus.name} {opts['train_split']}, evaluated on its {opts['eval_split']} split ({corpus.note})"
        else:
            self.data_note = (f"trained on PTB {opts['train_split']}, evaluated on PTB {opts['eval_split']} "
                              "(PTB's training split is not shipped)")
        model_kwargs = opts["model"] = {**space.model_kwargs, **opts["model"]}  # part of the checkpoint fingerprint
        torch.manual_seed(seed)
        self.model = RNNLanguageModel(arch, corpus.vocab_size, **model_kwargs).to(self.device)
        # not part of the checkpoint fingerprint: compiled and eager steps differ by float rounding only
        self.compiled = compile_choice(opts.pop("compile"), self.device)
        if self.compiled:
            compile_cells(self.model)
        if opts["recurrent_weights"] == "frozen":
            for cell in self.model.cells:
                for key in cell.hidden_weight_keys():
                    cell.weights[key].requires_grad_(False)
        self.hidden = None
        self.position = 0  # where the next window starts in the training split (variable BPTT)
        self._window = None  # (start, length) of the step prepared by before_step
        self._trace: list[tuple[str, torch.Tensor]] = []

    @staticmethod
    def resolve(space, options: dict) -> dict:
        """The options with defaults, the splits chosen for the space's corpus."""
        unknown = set(options) - set(DEFAULTS)
        if unknown:
            raise ConfigError("train.rnn", f"unknown option(s) {sorted(unknown)}; valid: {sorted(DEFAULTS)}")
        opts = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None or k == "eval_max_tokens"}}
        user = bool(getattr(space, "corpus_path", None))
        opts["train_split"] = opts["train_split"] or ("train" if user else "valid")
        opts["eval_split"] = opts["eval_split"] or ("valid" if user else "test")
        return opts

    @classmethod
    def check_data(cls, space, options: dict):
        """The train and eval token streams, refusing (before a search writes anything) splits that
        are missing, identical, or too short for one training window / one evaluation step."""
        opts = cls.resolve(space, options)  # idempotent: resolved options pass through unchanged
        if opts["train_split"] == opts["eval_split"]:
            raise ConfigError("train.rnn.eval_split", f"must differ from train.rnn.train_split ({opts['train_split']})")
        train = space.split_tokens(opts["train_split"], "short training (train.rnn.train_split)", "train.rnn.train_split")
        held = space.split_tokens(opts["eval_split"], "evaluation after short training (train.rnn.eval_split)", "train.rnn.eval_split")
        batch, bptt, eval_batch = int(opts["batch_size"]), int(opts["bptt"]), int(opts["eval_batch_size"])
        field = "space.corpus" if getattr(space, "corpus_path", None) else "train.rnn.bptt"
        for tokens, need, what, sizes in (
            (train, batch * (bptt + 1), f"the {opts['train_split']} split",
             f"train.rnn.batch_size {batch} x (train.rnn.bptt {bptt} + 1)"),
            (held, eval_batch * 2, f"the {opts['eval_split']} split", f"train.rnn.eval_batch_size {eval_batch} x 2"),
        ):
            if tokens.numel() < need:
                raise ConfigError(field, f"{space.corpus.name}: {what} has {tokens.numel():,} tokens, fewer than the {need:,} "
                                  f"short training needs ({sizes}); give more text or lower those settings")
        return train, held

    def optimizer(self):
        return torch.optim.Adam(self.model.parameters(), lr=self.options["lr"], weight_decay=self.options["weight_decay"])

    def window_length(self, step: int) -> int:
        """The benchmark's random BPTT length for `step` (a function of the seed and the step only)."""
        if self.options["bptt_mode"] == "fixed":
            return self.bptt
        rng = np.random.default_rng([int(self.seed), int(step), 7019])
        mean = self.bptt if rng.random() < 0.95 else self.bptt / 2.0
        return max(5, int(rng.normal(mean, 5)))

    def _prepare_window(self, step: int) -> float:
        """Choose the window of `step` (start, length); return its learning-rate scale."""
        rows = self.train_data.size(0)
        if self.options["bptt_mode"] == "fixed":
            window = step % self.windows
            if window == 0:
                self.hidden = None  # a new epoch starts from a zero state
            self._window = (window * self.bptt, self.bptt)
            return 1.0
        if self.position >= rows - 2:  # the benchmark's epoch loop ends here
            self.position = 0
        if self.position == 0:
            self.hidden = None  # a new epoch starts from a zero state
        length = self.window_length(step)
        self._window = (self.position, min(length, rows - 1 - self.position))
        return length / self.bptt  # the benchmark scales by the drawn length, before truncation

    def before_step(self, step, optimizer):
        scale = self._prepare_window(step)
        for group in optimizer.param_groups:
            group["lr"] = self.options["lr"] * scale

    def train_loss(self, step):
        if self._window is None:
            self._prepare_window(step)
        start, length = self._window
        self._window = None
        inputs = self.train_data[start : start + length]
        targets = self.train_data[start + 1 : start + 1 + length]
        model = self.model
        outputs, state = model.run_layers(model.embed(inputs), self.hidden)
        raw = outputs[-1]
        dropped = model.output_dropout(raw)
        logits = model.decoder(dropped)
        cross_entropy = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        loss = cross_entropy
        trace = [(f"layer {i + 1} output", out) for i, out in enumerate(outputs)]
        trace += [("logits", logits), ("cross-entropy", cross_entropy)]
        if self.options["alpha"]:
            ar = self.options["alpha"] * dropped.pow(2).mean()
            loss = loss + ar
            trace.append(("AR term (alpha * mean dropped output^2)", ar))
        if self.options["beta"] and raw.size(0) > 1:
            tar = self.options["beta"] * (raw[1:] - raw[:-1]).pow(2).mean()
            loss = loss + tar
            trace.append(("TAR term (beta * mean output change^2)", tar))
        self._trace = [(name, t.detach()) for name, t in trace]
        self.hidden = [tuple(h.detach() for h in layer) for layer in state]
        if self.options["bptt_mode"] == "variable":
            self.position = start + length
        return loss, {"train_loss": cross_entropy.item(), "train_objective": loss.item(), "bptt": float(length)}

    def diagnose(self) -> str:
        """Name the first tensor of the last step (in computation order) that is not finite, or the largest."""
        parts = []
        for name, tensor in self._trace:
            bad = ~torch.isfinite(tensor)
            if bool(bad.any()):
                where = ""
                if tensor.dim() == 3:  # T x B x H: the first time step that went non-finite
                    where = f" from time step {int(bad.flatten(1).any(1).nonzero()[0]) + 1} of {tensor.size(0)}"
                parts.append(f"first non-finite tensor: {name}{where}")
                break
        outputs = [(name, float(t.abs().max())) for name, t in self._trace if name.startswith("layer ") and t.numel()]
        if outputs:
            parts.append("max |output| per layer: " + ", ".join(f"{name.split(' output')[0]} {value:.3g}" for name, value in outputs))
        base = super().diagnose()
        if base:
            parts.append(base)
        return "; ".join(parts)

    def extra_state(self):
        tensors = {}
        if self.hidden is not None:
            tensors.update({f"hidden.{layer}.{j}": h for layer, state in enumerate(self.hidden) for j, h in enumerate(state)})
        if self.options["bptt_mode"] == "variable":
            tensors["position"] = torch.tensor([self.position], dtype=torch.int64)
        return tensors

    def load_extra_state(self, tensors):
        tensors = dict(tensors)
        position = tensors.pop("position", None)
        self.position = int(position[0]) if position is not None else 0
        if not tensors:
            self.hidden = None
            return
        layers = 1 + max(int(k.split(".")[1]) for k in tensors)
        self.hidden = [
            tuple(tensors[f"hidden.{layer}.{j}"] for j in range(sum(k.startswith(f"hidden.{layer}.") for k in tensors)))
            for layer in range(layers)
        ]

    @torch.no_grad()
    def evaluate(self):
        with eager_cells(self.model):  # forward only: not worth compiling a second (no-grad) graph per cell
            return self._evaluate()

    def _evaluate(self):
        model = self.model
        model.eval()
        total, tokens, hidden = 0.0, 0, None
        data = self.eval_data
        for start in range(0, data.size(0) - 1, self.bptt):
            length = min(self.bptt, data.size(0) - 1 - start)
            inputs, targets = data[start : start + length], data[start + 1 : start + 1 + length]
            logits, hidden = model(inputs, hidden)
            total += float(F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), reduction="sum"))
            tokens += targets.numel()
        loss = total / tokens
        return {"eval_loss": loss, "eval_ppl": math.exp(min(loss, 700.0))}

    def save_weights(self, directory: Path):
        save_model(self.model, str(Path(directory) / WEIGHTS_FILE))

    def load_weights(self, directory: Path):
        load_model(self.model, str(Path(directory) / WEIGHTS_FILE), device=str(self.device))


def compile_choice(value, device: torch.device) -> bool:
    """train.rnn.compile: None compiles on CUDA only (on the CPU the step is arithmetic-bound and compiling a
    cell takes tens of seconds); true or false force it."""
    if value is None:
        return device.type == "cuda"
    if not isinstance(value, bool):
        raise ConfigError("train.rnn.compile", f"must be true, false or null (on CUDA only), got {value!r}")
    return value


def compile_cells(model) -> None:
    """torch.compile every cell's time step ("default" mode: RecipeCell.compile_step says why). The compiler's
    caches are cleared first: each candidate is a new recipe, and its cells would otherwise pile up guards on
    one code object until torch stops compiling it."""
    torch.compiler.reset()
    for cell in model.cells:
        cell.compile_step("default")


class eager_cells:
    """Within the block, the cells run their eager step (evaluation); their compiled step is restored after."""

    def __init__(self, model):
        self.cells = list(model.cells)
        self.saved = [cell._compiled_step for cell in self.cells]

    def __enter__(self):
        for cell in self.cells:
            cell._compiled_step = None
        return self

    def __exit__(self, *exc):
        for cell, compiled in zip(self.cells, self.saved):
            cell._compiled_step = compiled
        return False
