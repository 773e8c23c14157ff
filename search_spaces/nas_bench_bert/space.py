"""The NAS-Bench-BERT (FlexiBERT-style) transformer space behind the generic SearchSpace interface."""
from __future__ import annotations

from functools import cached_property
from typing import Any, Iterable

import numpy as np
import torch

from tfnas.search_space import SPACES, SearchSpace
from tfnas.search_spaces.nas_bench_bert import arch as A
from tfnas.search_spaces.nas_bench_bert.arch import BertArch, EncoderLayer
from tfnas.search_spaces.nas_bench_bert.shipped import data_path
from tfnas.search_spaces.nas_bench_bert.text import (WIKITEXT_SPLITS, corpus_stream, load_tokenizer, load_user_tokenizer,
                                                     wikitext_batch, wikitext_sequences, windows)
from tfnas.search_spaces.nas_bench_bert.model import FlexiBertConfig, FlexiBertModel
from tfnas.search_spaces.nas_bench_bert.model_options import check_bert_model
from tfnas.search_spaces.nas_bench_bert.probe import BertProbe
from tfnas.data.text_file import DEFAULT_CORPUS_MB, megabytes
from tfnas.search_spaces.nas_bench_bert.build import BertModelBuilder
from tfnas.errors import ConfigError, InvalidArchitecture
from tfnas.seeded_init import resolve_seed

# Metric minibatch presets: "full" is the paper's 128 sequences x 512 tokens; "fast" ranks
# architectures like it (Spearman >= 0.95 per metric, scripts/bench_metrics_bert.py) at a
# fraction of the cost. Explicit batch_size / seq_len override the preset.
PRESETS = {"fast": {"batch_size": 16, "seq_len": 128}, "full": {"batch_size": 128, "seq_len": 512}}


@SPACES.register("bert")
class NasBenchBertSpace(SearchSpace[BertArch]):
    """Heterogeneous BERT encoders of NAS-Bench-BERT, scored on a WikiText-2 minibatch.

    `sampling`: "uniform" draws every one of the 10,621,440 architectures with equal probability
    (so nearly all have 4 layers); "per_depth" draws the depth uniformly first, as the benchmark's
    500 were drawn.
    """

    name = "bert"

    def __init__(
        self,
        preset: str = "fast",
        batch_size: int | None = None,
        seq_len: int | None = None,
        split: str | None = None,
        sampling: str = "uniform",
        model: dict | None = None,
        backward_target: str = "ones",
        corpus: str | None = None,
        tokenizer: str | None = None,
        max_corpus_mb: float = DEFAULT_CORPUS_MB,
    ):
        if preset not in PRESETS:
            raise ConfigError("space.preset", f"unknown preset {preset!r}; valid choices: {', '.join(PRESETS)}")
        if sampling not in ("uniform", "per_depth"):
            raise ConfigError("space.sampling", f"unknown sampling {sampling!r}; valid choices: uniform, per_depth")
        self.preset = preset
        self.batch_size = int(batch_size if batch_size is not None else PRESETS[preset]["batch_size"])
        self.seq_len = int(seq_len if seq_len is not None else PRESETS[preset]["seq_len"])
        for field, value in (("space.batch_size", self.batch_size), ("space.seq_len", self.seq_len)):
            if value < 1:
                raise ConfigError(field, f"must be a positive integer, got {value}")
        self.corpus_path = str(corpus) if corpus else None
        self.max_corpus_mb = max_corpus_mb
        megabytes(max_corpus_mb, "space.max_corpus_mb")
        self.tokenizer_path = str(tokenizer) if tokenizer else None
        # the metric split: WikiText-2 valid, or the train split of a user's corpus
        self.split = split or ("train" if self.corpus_path else "valid")
        self.sampling = sampling
        check_bert_model(model or {})
        self.model_kwargs = dict(model or {})
        if backward_target not in ("ones", "random"):
            raise ConfigError("space.backward_target", f"unknown target {backward_target!r}; valid choices: ones, random")
        self.backward_target = backward_target
        self.choices = A.benchmark_choices()

    # -- architectures -------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> BertArch:
        return A.sample(rng, self.choices, uniform_over_space=self.sampling == "uniform")

    def mutate(self, arch: BertArch, rng: np.random.Generator) -> BertArch:
        return A.mutate(arch, rng, self.choices)

    def validate(self, arch: BertArch) -> None:
        A.validate(arch, self.choices)

    def hash(self, arch: BertArch) -> str:
        return arch.hash

    def to_json(self, arch: BertArch) -> dict:
        return arch.to_json()

    def from_json(self, data: Any) -> BertArch:
        return BertArch.from_json(data, self.choices)

    def describe(self, arch: BertArch) -> dict[str, Any]:
        """Flat fields: depth, width, operation counts, and each layer's fields (None where absent)."""
        layers = arch.encoder_layers
        out: dict[str, Any] = {
            "num_layers": arch.num_layers,
            "hidden_size": arch.hidden_size,
            **{f"num_{t}": sum(layer.operation_type == t for layer in layers) for t in self.choices.operation_type},
            "total_heads": sum(layer.num_operation_heads for layer in layers),
            "total_ff_layers": sum(layer.num_feed_forward for layer in layers),
            "mean_ff_dim": float(np.mean([layer.feed_forward_dimension for layer in layers])),
        }
        for i in range(max(self.choices.num_encoder_layers)):
            layer = layers[i] if i < len(layers) else None
            out[f"layer{i + 1}_operation"] = layer.operation if layer else None
            for field in ("num_operation_heads", "feed_forward_dimension", "num_feed_forward"):
                out[f"layer{i + 1}_{field}"] = getattr(layer, field) if layer else None
        return out

    def describe_ranges(self) -> dict[str, Any]:
        """Choices as in `suggest` (hidden_size and num_layers are the same categoricals), counts from 0 to their
        maximum, and each layer slot's fields as categoricals with None for a slot the architecture lacks."""
        c = self.choices
        depth = max(c.num_encoder_layers)
        out: dict[str, Any] = {
            "num_layers": list(c.num_encoder_layers),
            "hidden_size": list(c.hidden_size),
            **{f"num_{t}": (0, depth) for t in c.operation_type},
            "total_heads": (0, depth * max(c.num_operation_heads)),
            "total_ff_layers": (0, depth * max(c.num_feed_forward)),
            "mean_ff_dim": (float(min(c.feed_forward_dimension)), float(max(c.feed_forward_dimension))),
        }
        for i in range(depth):
            out[f"layer{i + 1}_operation"] = [None] + [f"{t}/{p}" for t, p in c.operations]
            out[f"layer{i + 1}_num_operation_heads"] = [None, *c.num_operation_heads]
            out[f"layer{i + 1}_feed_forward_dimension"] = [None, *c.feed_forward_dimension]
            out[f"layer{i + 1}_num_feed_forward"] = [None, *c.num_feed_forward]
        return out

    def features(self, arch: BertArch) -> np.ndarray:
        """Fixed length whatever the depth: width, depth, then per layer slot a one-hot of the operation
        and its heads / feed-forward width / feed-forward depth (zeros for a slot the architecture lacks)."""
        operations = [f"{t}/{p}" for t, p in self.choices.operations]
        values = [arch.hidden_size, arch.num_layers]
        for i in range(max(self.choices.num_encoder_layers)):
            layer = arch.encoder_layers[i] if i < arch.num_layers else None
            values += [float(layer is not None and layer.operation == op) for op in operations]
            values += [layer.num_operation_heads, layer.feed_forward_dimension, layer.num_feed_forward] if layer else [0, 0, 0]
        return np.asarray(values, dtype=float)

    # -- Optuna encoding -------------------------------------------------------------
    def suggest(self, trial) -> BertArch:
        """Categoricals: hidden_size, num_layers, and per used layer i: op_i (`SA/SDP`, ..., one
        categorical for type and parameter, so choices never depend on another answer), heads_i, ff_dim_i, ff_num_i."""
        c = self.choices
        ops = [f"{t}/{p}" for t, p in c.operations]
        hidden = trial.suggest_categorical("hidden_size", list(c.hidden_size))
        depth = trial.suggest_categorical("num_layers", list(c.num_encoder_layers))
        layers = []
        for i in range(depth):
            op = trial.suggest_categorical(f"op_{i}", ops)
            op_type, op_param = c.operations[ops.index(op)]
            layers.append(
                EncoderLayer(
                    op_type,
                    op_param,
                    trial.suggest_categorical(f"heads_{i}", list(c.num_operation_heads)),
                    trial.suggest_categorical(f"ff_dim_{i}", list(c.feed_forward_dimension)),
                    trial.suggest_categorical(f"ff_num_{i}", list(c.num_feed_forward)),
                )
            )
        arch = BertArch(hidden, tuple(layers))
        self.validate(arch)
        return arch

    # -- models and data ---------------------------------------------------------------
    def config(self, arch: BertArch) -> FlexiBertConfig:
        """The architecture's config; with `space.tokenizer`, the vocabulary and padding id follow that tokenizer."""
        extra = {}
        if self.tokenizer_path:
            tok = self.tokenizer()
            extra = {"vocab_size": len(tok), "pad_token_id": tok.pad_token_id}
        return FlexiBertConfig.from_arch(arch, **{**extra, **self.model_kwargs})

    def build_model(self, arch: BertArch, seed: int | None = None, device: str | torch.device = "cpu"):
        """A fresh full build: the builder of `model_builder` applied once (the same weights, bit for bit)."""
        return self.model_builder(resolve_seed(seed), device)(arch)

    def model_builder(self, seed: int, device: str | torch.device = "cpu"):
        """Builds the embeddings once (the projection once per width), on `device`; then per architecture its layers."""
        builder = BertModelBuilder(seed, device)

        def build(arch: BertArch) -> FlexiBertModel:
            if not isinstance(arch, BertArch):
                raise InvalidArchitecture(f"expected a BertArch, got {type(arch).__name__}; parse JSON with space.from_json")
            return builder(self.config(arch))

        return build

    def metric_batch(self, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
        if self.corpus_path or self.tokenizer_path:
            if not 3 <= self.seq_len <= 512:
                raise ConfigError("space.seq_len", f"must be between 3 and 512 (the position table), got {self.seq_len}")
            stream = self.split_stream(self.split, f"the metric minibatch (space.split={self.split})")
            need = self.batch_size * (self.seq_len - 2)
            if len(stream) < need:
                raise ConfigError("space.corpus" if self.corpus_path else "space.batch_size",
                                  f"the {self.text_name} {self.split} split has {len(stream):,} word pieces, fewer than the metric "
                                  f"minibatch needs (space.batch_size {self.batch_size} x (space.seq_len {self.seq_len} - 2) = "
                                  f"{need:,}); give more text or lower space.batch_size / space.seq_len")
            ids = windows(self.tokenizer(), stream, self.batch_size, self.seq_len)
            batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids)}
        else:
            batch = wikitext_batch(self.batch_size, self.seq_len, self.split)
        return {k: v.to(device) for k, v in batch.items()}

    def lm_classes(self, batch: dict) -> torch.Tensor:
        """The class of each position for the LM proxies: its own token (-1 for [CLS], [SEP], padding)."""
        from tfnas.search_spaces.nas_bench_bert.lm_probe import lm_classes

        return lm_classes(batch)

    # -- text: WikiText-2 with the shipped WordPiece, or space.corpus / space.tokenizer ------------------
    @property
    def text_name(self) -> str:
        return self.corpus_path or "WikiText-2"

    def split_stream(self, split: str, purpose: str, field: str = "space.split"):
        """The split's word-piece ids under the space's tokenizer (a missing split is refused, naming the purpose)."""
        key = (split, self.corpus_path, self.tokenizer_path)
        cache = self.__dict__.setdefault("_streams", {})
        if key not in cache:
            if self.corpus_path:
                from tfnas.data.user_corpus import load_texts, require_split

                text = require_split(load_texts(self.corpus_path, self.max_corpus_mb), split, purpose, self.corpus_path)
            else:
                if split not in WIKITEXT_SPLITS:
                    raise ConfigError(field, f"unknown WikiText-2 split {split!r}; shipped: {', '.join(WIKITEXT_SPLITS)}")
                with open(data_path("wikitext-2", f"{split}.txt"), encoding="utf-8") as handle:
                    text = handle.read().replace("<unk>", self.tokenizer().unk_token)
            cache[key] = corpus_stream(self.tokenizer(), text)  # an int32 array
        return cache[key]

    def training_sequences(self, split: str, seq_len: int, purpose: str, field: str) -> torch.Tensor:
        """Short training's rows: the whole split cut into [CLS] ... [SEP] windows of seq_len (N x seq_len)."""
        if not (self.corpus_path or self.tokenizer_path):
            return wikitext_sequences(split, seq_len)
        stream = self.split_stream(split, purpose, field)
        return windows(self.tokenizer(), stream, len(stream) // (seq_len - 2), seq_len)

    def tokenizer(self):
        """The tokenizer of the metric batch and of short training: the shipped WordPiece, or `space.tokenizer`."""
        return load_user_tokenizer(self.tokenizer_path) if self.tokenizer_path else load_tokenizer()

    def probe(self, model, batch, needs: Iterable[str]) -> BertProbe:
        return BertProbe(model, batch, needs, backward_target=self.backward_target)

    def provides(self) -> frozenset[str]:
        return BertProbe.provides()

    def trainer_class(self):
        from tfnas.search_spaces.nas_bench_bert.trainer import BertPretrainer

        return BertPretrainer

    def export(self, arch: BertArch, out, *, checkpoint=None, seed: int = 0, options: dict | None = None) -> dict:
        from tfnas.search_spaces.nas_bench_bert.export import export_bert

        return export_bert(self, arch, out, checkpoint, seed)

    # -- labelled architectures ----------------------------------------------------------
    @cached_property
    def _benchmark(self):
        from tfnas.search_spaces.nas_bench_bert.benchmark import NasBenchBert

        return NasBenchBert(self)

    def benchmark(self):
        return self._benchmark
