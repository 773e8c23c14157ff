"""The tiny FlexiBERT encoder that the metric tests probe by hand (hidden 8, vocabulary 40)."""
import torch

from tfnas.search_spaces.nas_bench_bert import FlexiBertConfig, FlexiBertModel

VOCAB = 40


def tiny_flexibert(layers: list[dict], seed: int = 0) -> FlexiBertModel:
    """A seeded FlexiBertModel in eval mode: small enough to check every metric against plain autograd."""
    torch.manual_seed(seed)
    config = FlexiBertConfig(hidden_size=8, encoder_layers=layers, embedding_size=4, vocab_size=VOCAB, max_position_embeddings=16)
    return FlexiBertModel(config).eval()
