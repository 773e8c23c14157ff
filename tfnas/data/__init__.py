"""Shipped data: where it lives in the package, and the corpora built from it."""
from tfnas.data.resources import resource_path
from tfnas.data.corpus import Corpus, batchify, load_ptb, load_word_corpus

__all__ = ["resource_path", "Corpus", "batchify", "load_ptb", "load_word_corpus"]
