"""Word-level language-model corpora, tokenised the way AWD-LSTM does (whitespace tokens + <eos>): built from
shipped split files (a space's own, e.g. NAS-Bench-NLP's Penn Treebank) or from a user's corpus."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch

from tfnas.errors import ConfigError

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
def _user_corpus(path: str, vocab_size: int | None, limit_bytes: int, stamp: tuple) -> Corpus:
    from tfnas.data.word_stream import read_word_corpus

    word2idx, splits, report = read_word_corpus(path, vocab_size, limit_bytes)
    corpus = Corpus(word2idx=word2idx, splits=splits, name=str(path))
    sizes = ", ".join(f"{name} {t.numel():,} tokens" for name, t in corpus.splits.items())
    corpus.note = f"corpus {path}: {sizes}; {report.line()}"
    return corpus


def load_word_corpus(path, vocab_size: int | None = None, max_mb: float | None = None) -> Corpus:
    """A user's corpus (file or train/valid/test folder) as whitespace tokens + <eos>, vocabulary capped at vocab_size.

    Every file is checked before it is read (a regular file of at most `max_mb` MB, default
    tfnas.data.text_file.DEFAULT_CORPUS_MB) and streamed into compact tensors (tfnas.data.word_stream)."""
    from tfnas.data.text_file import DEFAULT_CORPUS_MB, megabytes
    from tfnas.data.user_corpus import FIELD

    limit = megabytes(DEFAULT_CORPUS_MB if max_mb is None else max_mb, "space.max_corpus_mb")
    root = Path(str(path)).expanduser()
    if not root.exists():
        raise ConfigError(FIELD, f"{root} does not exist; give a UTF-8 text file or a folder with train.txt / valid.txt / test.txt")
    files = sorted(root.glob("*.txt")) if root.is_dir() else [root]
    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    return _user_corpus(str(root), vocab_size, limit, stamp)


def batchify(tokens: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Cut a token stream into `batch_size` contiguous columns: a (len // batch_size) x batch_size tensor."""
    rows = tokens.numel() // batch_size
    return tokens[: rows * batch_size].view(batch_size, rows).t().contiguous()
