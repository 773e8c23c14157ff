"""Word-level language-model corpora (Penn Treebank), tokenised the way AWD-LSTM does.

Only PTB's validation and test splits are shipped, so the vocabulary is built from those
two files (valid first, then test): smaller than the benchmark's 10,000 words, which does
not change any training-free metric, since embeddings are random at scoring time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch

from tfnas.data.resources import resource_path

EOS = "<eos>"


@dataclass
class Corpus:
    """A vocabulary and the token ids of each split."""

    word2idx: dict[str, int] = field(default_factory=dict)
    splits: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def vocab_size(self) -> int:
        return len(self.word2idx)

    def split(self, name: str) -> torch.Tensor:
        if name not in self.splits:
            from tfnas.errors import ConfigError

            raise ConfigError("split", f"unknown split {name!r}; valid choices: {', '.join(self.splits)}")
        return self.splits[name]


def _read_words(path: Path) -> list[str]:
    words: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            words.extend(line.split())
            words.append(EOS)
    return words


def build_corpus(paths: dict[str, Path]) -> Corpus:
    corpus = Corpus()
    token_lists = {}
    for name, path in paths.items():
        words = _read_words(path)
        for word in words:
            corpus.word2idx.setdefault(word, len(corpus.word2idx))
        token_lists[name] = words
    for name, words in token_lists.items():
        corpus.splits[name] = torch.tensor([corpus.word2idx[w] for w in words], dtype=torch.long)
    return corpus


@lru_cache(maxsize=1)
def load_ptb() -> Corpus:
    """Penn Treebank validation and test splits with their joint vocabulary."""
    return build_corpus({"valid": resource_path("ptb", "valid.txt"), "test": resource_path("ptb", "test.txt")})


def batchify(tokens: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Cut a token stream into `batch_size` contiguous columns: a (len // batch_size) x batch_size tensor."""
    rows = tokens.numel() // batch_size
    return tokens[: rows * batch_size].view(batch_size, rows).t().contiguous()
