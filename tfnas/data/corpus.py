"""Word-level language-model corpora, tokenised the way AWD-LSTM does (whitespace tokens + <eos>): built from
shipped split files (a space's own, e.g. NAS-Bench-NLP's Penn Treebank) or from a user's corpus."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch

EOS = "<eos>"


@dataclass
class Corpus:
    """A vocabulary and the token ids of each split."""

    word2idx: dict[str, int] = field(default_factory=dict)
    splits: dict[str, torch.Tensor] = field(default_factory=dict)
    name: str = "PTB"
    note: str = ""  # what was built (vocabulary cap, split sizes), printed by the run

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


@lru_cache(maxsize=4)
def _user_corpus(path: str, vocab_size: int | None, stamp: tuple) -> Corpus:
    from tfnas.data.user_corpus import build_vocabulary, load_texts, words

    token_lists = {name: words(text) for name, text in load_texts(path).items()}
    word2idx, report = build_vocabulary(list(token_lists.values()), vocab_size)
    unk = word2idx["<unk>"]
    corpus = Corpus(word2idx=word2idx, name=str(path))
    for name, tokens in token_lists.items():
        corpus.splits[name] = torch.tensor([word2idx.get(w, unk) for w in tokens], dtype=torch.long)
    sizes = ", ".join(f"{name} {t.numel():,} tokens" for name, t in corpus.splits.items())
    corpus.note = f"corpus {path}: {sizes}; {report.line()}"
    return corpus


def load_word_corpus(path, vocab_size: int | None = None) -> Corpus:
    """A user's corpus (file or train/valid/test folder) as whitespace tokens + <eos>, vocabulary capped at vocab_size."""
    from tfnas.data.user_corpus import load_texts

    texts = load_texts(path)  # checks the files (and caches them) first
    stamp = tuple(sorted((k, len(v), hash(v)) for k, v in texts.items()))
    return _user_corpus(str(path), vocab_size, stamp)


def batchify(tokens: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Cut a token stream into `batch_size` contiguous columns: a (len // batch_size) x batch_size tensor."""
    rows = tokens.numel() // batch_size
    return tokens[: rows * batch_size].view(batch_size, rows).t().contiguous()
