"""FlexiBERT configuration: one architecture of the NAS-Bench-BERT space (no torch, no tfnas imports).

This file is copied verbatim into exported model folders (`tfnas export`), where transformers
loads it with `trust_remote_code=True`, so it must stand alone: it imports only transformers.
"""
from __future__ import annotations

from transformers import PretrainedConfig


class FlexiBertConfig(PretrainedConfig):
    """One architecture of the space plus the ELECTRA-small embedding hyper-parameters.

    `encoder_layers` holds one dict per layer in the benchmark's format: operation_type
    (SA | LT | DSC), operation_parameter (SDP | WMA | DFT | DCT | kernel size),
    num_operation_heads, feed_forward_dimension, num_feed_forward.
    """

    model_type = "flexibert"

    def __init__(
        self,
        hidden_size: int = 256,
        encoder_layers: list[dict] | None = None,
        vocab_size: int = 30522,
        embedding_size: int = 128,
        max_position_embeddings: int = 512,
        type_vocab_size: int = 2,
        layer_norm_eps: float = 1e-12,
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        classifier_dropout: float | None = None,
        initializer_range: float = 0.02,
        pad_token_id: int = 0,
        **kwargs,
    ):
        self.hidden_size = int(hidden_size)
        self.encoder_layers = [dict(layer) for layer in (encoder_layers or [])]
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.layer_norm_eps = layer_norm_eps
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.classifier_dropout = classifier_dropout
        self.initializer_range = initializer_range
        kwargs.setdefault("tie_word_embeddings", False)  # the masked-LM decoder has its own weights
        super().__init__(pad_token_id=pad_token_id, **kwargs)

    @classmethod
    def from_arch(cls, arch, **kwargs) -> "FlexiBertConfig":
        """From a BertArch (or its benchmark JSON); kwargs override embedding settings."""
        data = arch.to_json() if hasattr(arch, "to_json") else arch
        return cls(hidden_size=data["hidden_size"], encoder_layers=data["nas_config"]["encoder_layers"], **kwargs)

    @property
    def num_hidden_layers(self) -> int:
        return len(self.encoder_layers)


def register_auto_config() -> None:
    """Map model_type "flexibert" to this config in `AutoConfig` (tfnas calls it; exported copies never do)."""
    from transformers import AutoConfig

    AutoConfig.register(FlexiBertConfig.model_type, FlexiBertConfig, exist_ok=True)
