"""Shipped data: where it lives in the package, and the corpora built from it."""
from tfnas.data.resources import shipped_path
from tfnas.data.corpus import Corpus, batchify, build_corpus, load_word_corpus

__all__ = ["shipped_path", "Corpus", "batchify", "build_corpus", "load_word_corpus"]
