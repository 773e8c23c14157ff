"""The configuration of an exported NAS-Bench-NLP language model (no torch, no tfnas imports).

This file is copied verbatim into exported RNN model folders (`tfnas export`), where transformers
loads it with `trust_remote_code=True`, so it must stand alone: it imports only transformers.
"""
from __future__ import annotations

from transformers import PretrainedConfig


class NasBenchNLPConfig(PretrainedConfig):
    """One recurrent cell of NAS-Bench-NLP (Klyuchnikov et al., 2022) inside the benchmark's AWD-LSTM-style model.

    `recipe` is the cell as data, in the benchmark's JSON format: `{node: {"op": OP, "input": [NODES]}}` over
    the inputs `x` and `h_prev_0..h_prev_{H-1}`, with outputs `h_new_0..h_new_{H-1}`. The model sizes and
    dropouts are the benchmark's names (emsize, nhid, nlayers, dropout, dropouth, dropouti, dropoute, wdrop).
    `recurrent_weights="frozen"` keeps the weights that read hidden vectors at their values, as the
    benchmark's weight drop did in its training; "trained" lets an optimiser change them.
    """

    model_type = "nas_bench_nlp"

    def __init__(
        self,
        recipe: dict | None = None,
        vocab_size: int = 10000,
        emsize: int = 400,
        nhid: int = 600,
        nlayers: int = 3,
        dropout: float = 0.1,
        dropouth: float = 0.25,
        dropouti: float = 0.4,
        dropoute: float = 0.0,
        wdrop: float = 0.1,
        recurrent_weights: str = "frozen",
        **kwargs,
    ):
        self.recipe = dict(recipe or {})
        self.vocab_size = int(vocab_size)
        self.emsize, self.nhid, self.nlayers = int(emsize), int(nhid), int(nlayers)
        self.dropout, self.dropouth, self.dropouti, self.dropoute, self.wdrop = dropout, dropouth, dropouti, dropoute, wdrop
        if recurrent_weights not in ("frozen", "trained"):
            raise ValueError(f"recurrent_weights must be 'frozen' or 'trained', got {recurrent_weights!r}")
        self.recurrent_weights = recurrent_weights
        kwargs.setdefault("tie_word_embeddings", True)  # the decoder is the embedding (AWD-LSTM's weight tying)
        super().__init__(**kwargs)

    @property
    def hidden_size(self) -> int:
        """The width of the last layer's output: the embedding size, since the decoder is tied to it."""
        return self.emsize if self.tie_word_embeddings else self.nhid
