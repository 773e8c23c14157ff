"""space.model for the BERT space: the FlexiBertConfig settings a user may change, checked at construction.

Every key goes into the exported `config.json`, so an unknown one (a typo such as `embeding_size`)
is refused with the valid keys instead of travelling silently into a model folder; sizes must be
positive integers, rates in [0, 1); and the embedding tables those sizes make must fit in memory
(tfnas.model_size) before any of them is allocated.
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Mapping

from tfnas.errors import ConfigError
from tfnas.model_size import check_model_size
from tfnas.search_spaces.nas_bench_bert.configuration_flexibert import FlexiBertConfig
from tfnas.validate import fraction, integer, positive_int

FROM_ARCH = ("self", "hidden_size", "encoder_layers", "kwargs")  # set by the architecture, not by space.model
SIZES = ("vocab_size", "embedding_size", "max_position_embeddings", "type_vocab_size")
RATES = ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout")
POSITIVE = ("layer_norm_eps", "initializer_range")


def model_keys() -> dict[str, Any]:
    """key -> default of every FlexiBertConfig setting space.model may give."""
    params = inspect.signature(FlexiBertConfig.__init__).parameters
    return {name: p.default for name, p in params.items() if name not in FROM_ARCH}


def check_bert_model(model: Mapping[str, Any]) -> None:
    """Refuse unknown keys, bad values and embedding tables that cannot fit, each naming space.model.<key>."""
    known = model_keys()
    for key, value in model.items():
        field = f"space.model.{key}"
        if key not in known:
            raise ConfigError(field, f"unknown model option; valid options: {', '.join(known)}")
        if key in SIZES:
            positive_int(value, field)
        elif key in RATES:
            if not (key == "classifier_dropout" and value is None):
                fraction(value, field)
        elif key in POSITIVE:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
                raise ConfigError(field, f"must be a positive number, got {value!r}")
        elif key == "pad_token_id":
            integer(value, field, 0, "a non-negative integer (a token id)")
    sizes = {k: int(model.get(k, known[k])) for k in SIZES}
    embeddings = (sizes["vocab_size"] + sizes["max_position_embeddings"] + sizes["type_vocab_size"]) * sizes["embedding_size"]
    check_model_size(embeddings, sizes, {k: known[k] for k in SIZES})
