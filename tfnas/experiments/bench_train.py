"""Training speed of the RNN trainer against a cuDNN-style nn.LSTM language model of the same sizes, in one run
(`tfnas bench train`).

Three trainers take the same optimizer steps on the same data, side by side: tfnas's RNN trainer (NAS-Bench-NLP's
training: dropouts, weight drop, AR/TAR, variable BPTT) with its cells' time step run eagerly, the same trainer with
the time step compiled (train.rnn.compile), and a language model of the same sizes whose layers are `nn.LSTM`
(AWD-LSTM's layout: one single-layer LSTM per layer, emsize -> nhid -> ... -> emsize, the decoder tied to the
embedding; cuDNN's fused kernels on a GPU), trained with the same Adam, clipping, batch and BPTT length and a plain
cross-entropy loss. Each round runs --steps steps of each configuration, in rotated order, after warm-up steps that
are not timed (compiling happens there; its seconds are reported on their own). The report gives the median
steps per second over the rounds and each configuration's ratio to the LSTM.
"""
from __future__ import annotations

import statistics
import sys
import time
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from tfnas.experiments.throughput import machine_load
from tfnas.report.markdown import table


class LSTMLanguageModel(nn.Module):
    """Embedding -> one nn.LSTM per layer (emsize -> nhid -> ... -> emsize) -> decoder tied to the embedding."""

    def __init__(self, vocab_size: int, emsize: int, nhid: int, nlayers: int):
        super().__init__()
        self.encoder = nn.Embedding(vocab_size, emsize)
        sizes = [emsize] + [nhid] * (nlayers - 1) + [emsize]
        self.layers = nn.ModuleList(nn.LSTM(sizes[i], sizes[i + 1]) for i in range(nlayers))
        self.decoder = nn.Linear(emsize, vocab_size)
        self.decoder.weight = self.encoder.weight

    def forward(self, tokens: torch.Tensor, state: list | None = None):
        x, new_state = self.encoder(tokens), []
        for i, layer in enumerate(self.layers):
            x, last = layer(x, None if state is None else state[i])
            new_state.append(tuple(h.detach() for h in last))
        return self.decoder(x), new_state


def _ours(space, arch, device, compiled: bool, options: dict) -> Callable[[int], None]:
    """One optimizer step of the RNN trainer, as tfnas.training.loop takes it (without the files)."""
    trainer = space.trainer_class()(space, arch, seed=0, device=device, options={**options, "compile": compiled})
    optimizer = trainer.optimizer()

    def step(number: int) -> None:
        trainer.model.train()
        trainer.before_step(number, optimizer)
        optimizer.zero_grad(set_to_none=True)
        loss, _ = trainer.train_loss(number)
        loss.backward()
        trainer.clip_gradients()
        optimizer.step()

    return step


def model_sizes(space, opts: dict) -> dict:
    """emsize, nhid and nlayers of the model the trainer builds (its defaults, the space's, then train.rnn.model)."""
    from tfnas.search_spaces.nas_bench_nlp.size import DEFAULTS, SIZE_KEYS

    merged = {**DEFAULTS, **space.model_kwargs, **opts.get("model", {})}
    return {k: merged[k] for k in SIZE_KEYS}


def _lstm(space, device, options: dict) -> Callable[[int], None]:
    from tfnas.data import batchify

    opts = space.trainer_class().resolve(space, options)  # the trainer's own Adam, clipping, batch, BPTT and split
    sizes = model_sizes(space, opts)
    torch.manual_seed(0)
    model = LSTMLanguageModel(space.corpus.vocab_size, sizes["emsize"], sizes["nhid"], sizes["nlayers"]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=opts["lr"], weight_decay=opts["weight_decay"])
    data = batchify(space.split_tokens(opts["train_split"], "tfnas bench train"), int(opts["batch_size"])).to(device)
    bptt = int(opts["bptt"])
    windows = (data.size(0) - 1) // bptt
    state: list = [None]

    def step(number: int) -> None:
        start = (number % windows) * bptt
        inputs, targets = data[start: start + bptt], data[start + 1: start + 1 + bptt]
        optimizer.zero_grad(set_to_none=True)
        logits, state[0] = model(inputs, state[0])
        F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1)).backward()
        nn.utils.clip_grad_norm_(model.parameters(), opts["clip"])
        optimizer.step()

    return step


def bench_train(space, arch, device: str = "cpu", steps: int = 20, rounds: int = 3, warmup: int = 3,
                options: dict | None = None, log=sys.stderr) -> str:
    """The report of `tfnas bench train` (see the module docstring)."""
    options = dict(options or {})
    device = torch.device(device)
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    configs = {"tfnas trainer, eager time step": lambda: _ours(space, arch, device, False, options),
               "tfnas trainer, compiled time step (train.rnn.compile)": lambda: _ours(space, arch, device, True, options),
               "nn.LSTM language model (cuDNN on a GPU)": lambda: _lstm(space, device, options)}
    steppers, warm = {}, {}
    for name, make in configs.items():
        start = time.perf_counter()
        steppers[name] = make()
        for number in range(warmup):
            steppers[name](number)
        sync()
        warm[name] = time.perf_counter() - start
        print(f"{name}: built and {warmup} warm-up steps in {warm[name]:.1f} s", file=log, flush=True)
    rates: dict[str, list[float]] = {name: [] for name in configs}
    names = list(configs)
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            start = time.perf_counter()
            for number in range(warmup + r * steps, warmup + (r + 1) * steps):
                steppers[name](number)
            sync()
            rates[name].append(steps / (time.perf_counter() - start))
            print(f"round {r + 1}/{rounds}: {name} {rates[name][-1]:.2f} steps/s", file=log, flush=True)
    lstm = statistics.median(rates[names[-1]])
    rows = [[name, f"{statistics.median(rates[name]):.2f}", f"{lstm / statistics.median(rates[name]):.2f}", f"{warm[name]:.1f}"]
            for name in names]
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    opts = space.trainer_class().resolve(space, options)
    head = (f"# tfnas bench train --space rnn: {steps} steps x {rounds} rounds per configuration, batch "
            f"{opts['batch_size']}, bptt {opts['bptt']}, sizes {model_sizes(space, opts)}, device {device}")
    note = (f"{where}, {torch.get_num_threads()} torch thread(s), torch {torch.__version__}; median of {rounds} rounds (rotated "
            f"order) after {warmup} untimed warm-up steps; {machine_load()}")
    return "\n".join([head, note, "", table(["trainer", "steps/s", "times slower than nn.LSTM",
                                              "build + warm-up seconds (compiling included)"], rows)])
