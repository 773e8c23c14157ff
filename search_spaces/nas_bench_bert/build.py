"""Building NAS-Bench-BERT's untrained encoders: the embeddings once, the encoder layers per architecture.

Every architecture's FlexiBERT has the same word, position and token-type embeddings and embedding LayerNorm;
only the projection to the hidden size depends on it (on its width alone). Each parameter is drawn from its
own seeded stream (tfnas.seeded_init) with the distributions of the model's Hugging Face initialisation
(`_init_weights`: linear, convolution, embedding and WMA weights N(0, initializer_range^2), biases 0, the
padding row 0, LayerNorms 1 and 0), so a `BertModelBuilder` builds the embeddings once per width on the target
device and per architecture only its layers; `build_model`, a fresh full build, gives the same weights.
"""
from __future__ import annotations

import torch
from torch import nn

from tfnas.search_spaces.nas_bench_bert.model import FlexiBertConfig, FlexiBertModel, SelfAttention
from tfnas.seeded_init import normal_

SHARED_EMBEDDINGS = ("word_embeddings", "position_embeddings", "token_type_embeddings", "LayerNorm")


@torch.no_grad()
def init_weights_(module: nn.Module, config: FlexiBertConfig, seed: int, prefix: str) -> None:
    """Initialise every parameter under `module` (named `prefix` in the full model) from its own stream."""
    std = config.initializer_range
    for name, sub in module.named_modules(prefix=prefix):
        if isinstance(sub, (nn.Linear, nn.Conv1d, nn.Embedding)):
            normal_(sub.weight, 0.0, std, seed, f"{name}.weight")
            if getattr(sub, "bias", None) is not None:
                sub.bias.zero_()
            if isinstance(sub, nn.Embedding) and sub.padding_idx is not None:
                sub.weight[sub.padding_idx].zero_()
        elif isinstance(sub, nn.LayerNorm):
            sub.weight.fill_(1.0)
            sub.bias.zero_()
        if isinstance(sub, SelfAttention) and sub.wma is not None:
            normal_(sub.wma, 0.0, std, seed, f"{name}.wma")


def empty_model(config: FlexiBertConfig) -> FlexiBertModel:
    """The encoder's modules on the meta device (no memory, no random draws)."""
    with torch.device("meta"):
        return FlexiBertModel(config)


class BertModelBuilder:
    """`builder(config)` is the untrained FlexiBertModel of `config` on `device` with the shared embeddings.

    The models share the embedding modules (one per width: the word, position and token-type tables and
    their LayerNorm are the same tensors in all of them); a probe reads them and never writes them.
    """

    def __init__(self, seed: int, device: str | torch.device):
        self.seed, self.device = int(seed), torch.device(device)
        self._by_width: dict[int, nn.Module] = {}
        self._shared: dict[str, nn.Module] | None = None

    def _embeddings(self, empty: nn.Module, config: FlexiBertConfig) -> nn.Module:
        """The embeddings of width config.hidden_size: `empty` (on meta) given the shared tables, once per width."""
        width = config.hidden_size
        if width not in self._by_width:
            if self._shared is None:
                self._shared = {}
                for name in SHARED_EMBEDDINGS:
                    module = getattr(empty, name).to_empty(device=self.device)
                    init_weights_(module, config, self.seed, f"embeddings.{name}")
                    self._shared[name] = module
            for name, shared in self._shared.items():
                setattr(empty, name, shared)
            if empty.project is not None:
                empty.project.to_empty(device=self.device)
                init_weights_(empty.project, config, self.seed, "embeddings.project")
            self._by_width[width] = empty
        return self._by_width[width]

    def __call__(self, config: FlexiBertConfig) -> FlexiBertModel:
        model = empty_model(config)
        model.layers.to_empty(device=self.device)
        init_weights_(model.layers, config, self.seed, "layers")
        model.embeddings = self._embeddings(model.embeddings, config)
        return model


def legacy_build(space, arch, seed: int, device: str | torch.device) -> nn.Module:
    """The build the BERT space used before per-parameter streams (torch's global generator: every module's
    default initialisation then Hugging Face's, on the CPU, then a copy to `device`); kept as the reference of
    `tfnas bench --build-time`."""
    torch.manual_seed(seed)
    return FlexiBertModel(space.config(arch)).to(device)
