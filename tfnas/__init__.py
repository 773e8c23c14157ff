"""tfnas: training-free neural architecture search for language models."""

__version__ = "0.1.0"
