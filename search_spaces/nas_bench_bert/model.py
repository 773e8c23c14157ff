"""The FlexiBERT model as tfnas uses it: the standalone transformers files plus tfnas's error type.

The model lives in `configuration_flexibert.py` / `flexibert_layers.py` / `modeling_flexibert.py`, which import nothing
from tfnas so that `tfnas export` can ship them inside a model folder. Here, inside tfnas, an
unbuildable config raises `tfnas.errors.InvalidArchitecture`, and the classes are registered
with transformers' Auto classes: setup.cfg declares `register_auto_classes` (and the config's
`register_auto_config`) as this space's entry points, which `tfnas.hf_auto` runs on `import tfnas`.
"""
from __future__ import annotations

from tfnas import hf_auto
from tfnas.errors import InvalidArchitecture
from tfnas.search_spaces.nas_bench_bert import flexibert_layers, modeling_flexibert
from tfnas.search_spaces.nas_bench_bert.configuration_flexibert import FlexiBertConfig
from tfnas.search_spaces.nas_bench_bert.flexibert_layers import (  # noqa: F401 (re-exported)
    LinearTransform, MixedConvAttention, SelfAttention, _mix_2d, attend)
from tfnas.search_spaces.nas_bench_bert.modeling_flexibert import (  # noqa: F401 (re-exported)
    FlexiBertForMaskedLM, FlexiBertForSequenceClassification, FlexiBertModel, FlexiBertPreTrainedModel)

# raised by the standalone files' builders
flexibert_layers.InvalidArchitecture = modeling_flexibert.InvalidArchitecture = InvalidArchitecture

AUTO_CLASSES = {"AutoModel": FlexiBertModel, "AutoModelForMaskedLM": FlexiBertForMaskedLM,
                "AutoModelForSequenceClassification": FlexiBertForSequenceClassification}


def register_auto_classes() -> None:
    """Make `AutoConfig` / `AutoModel*` resolve model_type "flexibert" to these classes (idempotent)."""
    import transformers

    transformers.AutoConfig.register(FlexiBertConfig.model_type, FlexiBertConfig, exist_ok=True)
    for auto, cls in AUTO_CLASSES.items():
        getattr(transformers, auto).register(FlexiBertConfig, cls, exist_ok=True)


hf_auto.install()  # registers now if transformers' auto modules loaded while this module was importing
