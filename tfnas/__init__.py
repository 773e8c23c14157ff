"""tfnas: training-free neural architecture search for language models."""

__version__ = "0.1.0"

from tfnas import hf_auto as _hf_auto  # noqa: E402

_hf_auto.install()  # FlexiBERT joins transformers' Auto classes when those load (no torch import here)
