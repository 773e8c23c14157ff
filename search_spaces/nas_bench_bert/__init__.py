"""NAS-Bench-BERT: the FlexiBERT-style heterogeneous transformer space of Serianni & Kalita (2023).

Names are loaded on first use (PEP 562), so importing the torch-free configuration module
(`configuration_flexibert`, what `AutoConfig` needs) does not import torch.
"""
from importlib import import_module

_NAMES = {
    "BertArch": "arch", "EncoderLayer": "arch", "FlexiBertConfig": "configuration_flexibert",
    "FlexiBertModel": "model", "FlexiBertForMaskedLM": "model", "FlexiBertForSequenceClassification": "model",
    "NasBenchBertSpace": "space", "PRESETS": "space",
}
__all__ = sorted(_NAMES)


def __getattr__(name):
    if name not in _NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_NAMES[name]}"), name)
