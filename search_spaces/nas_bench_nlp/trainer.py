"""NAS-Bench-NLP's language-model training for the RNN space, shortened.

As in the benchmark (spec: nas_bench_nlp.md): Adam lr 1e-3, weight decay 1.2e-6, batch 20,
BPTT 70 (fixed length here), gradient clip 0.25, the model's dropouts, AR/TAR with
alpha=2 (on the dropped output of the last layer) and beta=1 (on its raw output).
Penn Treebank's training split is not shipped: the model trains on one of the shipped
splits (valid by default) and is evaluated on the other (test), which is the benchmark's
own target split. With `space.corpus`, the defaults are the corpus's train and valid splits.
"""
from __future__ import annotations

import math
from pathlib import Path

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
    "clip": 0.25,
    "alpha": 2.0,
    "beta": 1.0,
    "train_split": None,  # None: PTB valid, or train of space.corpus
    "eval_split": None,  # None: PTB test, or valid of space.corpus
    "eval_batch_size": 10,
    "eval_max_tokens": None,  # None: the whole evaluation split
    "model": {},  # overrides of the space's model sizes/dropouts (emsize, nhid, nlayers, dropout, ...)
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
        self.windows = (self.train_data.size(0) - 1) // self.bptt
        if getattr(space, "corpus_path", None):
            self.data_note = f"trained on {corpus.name} {opts['train_split']}, evaluated on its {opts['eval_split']} split ({corpus.note})"
        else:
            self.data_note = (f"trained on PTB {opts['train_split']}, evaluated on PTB {opts['eval_split']} "
                              "(PTB's training split is not shipped)")
        model_kwargs = opts["model"] = {**space.model_kwargs, **opts["model"]}  # part of the checkpoint fingerprint
        torch.manual_seed(seed)
        self.model = RNNLanguageModel(arch, corpus.vocab_size, **model_kwargs).to(self.device)
        self.hidden = None

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

    def train_loss(self, step):
        window = step % self.windows
        if window == 0:
            self.hidden = None  # a new epoch starts from a zero state
        start = window * self.bptt
        inputs = self.train_data[start : start + self.bptt]
        targets = self.train_data[start + 1 : start + 1 + self.bptt]
        model = self.model
        outputs, state = model.run_layers(model.embed(inputs), self.hidden)
        raw = outputs[-1]
        dropped = model.output_dropout(raw)
        logits = model.decoder(dropped)
        cross_entropy = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        loss = cross_entropy
        if self.options["alpha"]:
            loss = loss + self.options["alpha"] * dropped.pow(2).mean()
        if self.options["beta"] and raw.size(0) > 1:
            loss = loss + self.options["beta"] * (raw[1:] - raw[:-1]).pow(2).mean()
        self.hidden = [tuple(h.detach() for h in layer) for layer in state]
        return loss, {"train_loss": cross_entropy.item(), "train_objective": loss.item()}

    @torch.no_grad()
    def evaluate(self):
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

    def extra_state(self):
        if self.hidden is None:
            return {}
        return {f"hidden.{layer}.{j}": h for layer, state in enumerate(self.hidden) for j, h in enumerate(state)}

    def load_extra_state(self, tensors):
        if not tensors:
            self.hidden = None
            return
        layers = 1 + max(int(k.split(".")[1]) for k in tensors)
        self.hidden = [
            tuple(tensors[f"hidden.{layer}.{j}"] for j in range(sum(k.startswith(f"hidden.{layer}.") for k in tensors)))
            for layer in range(layers)
        ]

    def save_weights(self, directory: Path):
        save_model(self.model, str(Path(directory) / WEIGHTS_FILE))

    def load_weights(self, directory: Path):
        load_model(self.model, str(Path(directory) / WEIGHTS_FILE), device=str(self.device))
