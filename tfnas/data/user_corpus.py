"""A user's own text (`space.corpus=PATH`): read it strictly, split it, and build a word vocabulary.

PATH is a UTF-8 text file or a folder with `train.txt` / `valid.txt` / `test.txt`. A single file
is cut into train / valid / test at 80% and 90% of its characters (at the next line break, or
the next whitespace when the file has too few lines), so short training never evaluates on the
text it trained on. Everything that would make a run meaningless is refused with a ConfigError
naming `space.corpus`: a missing path or split, a FIFO or device, a file above space.max_corpus_mb,
an empty file, a binary or non-UTF-8 file (with the byte offset). Nothing is silently dropped: `describe()` says how much text each split holds
and how many tokens a vocabulary cap maps to `<unk>`.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Iterator

from tfnas.errors import ConfigError

SPLITS = ("train", "valid", "test")
FILE_CUTS = (0.8, 0.9)  # a single file: train | valid | test at these fractions of its characters
FIELD = "space.corpus"
EOS, UNK = "<eos>", "<unk>"


def read_text(path: Path, field: str = FIELD, max_mb: float | None = None) -> str:
    """The file's text; refuses a FIFO or device, a file above `max_mb` MB, and an empty, binary or non-UTF-8 file,
    naming the byte offset. The type and the size are checked before anything is read."""
    from tfnas.data.text_file import DEFAULT_CORPUS_MB, megabytes, read_utf8

    limit = megabytes(DEFAULT_CORPUS_MB if max_mb is None else max_mb, "space.max_corpus_mb")
    text = read_utf8(path, field, limit, "space.max_corpus_mb")
    if not text or text.isspace():  # (no stripped copy of a large text)
        raise ConfigError(field, f"{path} is empty" + (" (only whitespace)" if text else "") + "; give a text file with your corpus")
    return text


_LINE = re.compile(r"[^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]*+(?:\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029])?+")


def iter_lines(text: str) -> Iterator[str]:
    """The lines of `text` as `str.splitlines()` gives them, one at a time (no list of every line of a large text)."""
    for m in _LINE.finditer(text):
        line = m.group()
        if not line:  # the empty match at the end
            return
        yield line.rstrip("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029") if not line.endswith("\r\n") else line[:-2]


def _cut(text: str, fraction: float, many_lines: bool) -> int:
    start = int(len(text) * fraction)
    mark = text.find("\n", start) if many_lines else -1
    if mark < 0:
        mark = next((i for i in range(start, len(text)) if text[i].isspace()), len(text))
    return mark + 1 if mark < len(text) else mark


def split_file(text: str, path: Path, field: str = FIELD) -> dict[str, str]:
    """A single file as train / valid / test (contiguous, in order, at FILE_CUTS)."""
    many_lines = len(list(islice(filter(str.strip, iter_lines(text)), 10))) >= 10
    a, b = (_cut(text, f, many_lines) for f in FILE_CUTS)
    parts = {"train": text[:a], "valid": text[a:b], "test": text[b:]}
    empty = [name for name, part in parts.items() if not part or part.isspace()]  # no word (and no list of every word)
    if empty:
        raise ConfigError(field, f"{path} is too short to cut into train / valid / test (80% / 10% / 10%): the {', '.join(empty)} "
                          "part would be empty; give a longer text or a folder with train.txt, valid.txt and test.txt")
    return parts


@lru_cache(maxsize=8)
def _load_texts(path: str, max_mb: float | None, stamp: tuple) -> tuple[tuple[str, str], ...]:
    root = Path(path)
    if root.is_dir():
        found = [(s, root / f"{s}.txt") for s in SPLITS if (root / f"{s}.txt").exists()]
        if not found:
            raise ConfigError(FIELD, f"folder {root} holds none of train.txt, valid.txt, test.txt")
        return tuple((s, read_text(p, max_mb=max_mb)) for s, p in found)
    return tuple(split_file(read_text(root, max_mb=max_mb), root).items())


def load_texts(path, max_mb: float | None = None) -> dict[str, str]:
    """split name -> text of a corpus file or folder (cached while the files are unchanged); files above
    `max_mb` MB (space.max_corpus_mb) are refused before they are read."""
    root = Path(str(path)).expanduser()
    if not root.exists():
        raise ConfigError(FIELD, f"{root} does not exist; give a UTF-8 text file or a folder with train.txt / valid.txt / test.txt")
    files = sorted(root.glob("*.txt")) if root.is_dir() else [root]
    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    return dict(_load_texts(str(root.resolve()), max_mb, stamp))


def require_split(texts: dict[str, str], split: str, purpose: str, path, field: str = FIELD) -> str:
    """The split's text, or a ConfigError naming the missing file and what needed it."""
    if split not in texts:
        raise ConfigError(field, f"{path} has no {split} split ({split}.txt), needed for {purpose}; "
                          f"found: {', '.join(f'{s}.txt' for s in texts) or 'none'}")
    return texts[split]


def require_tokens(have: int, need: int, what: str, sizes: str, path, field: str = FIELD) -> None:
    """Refuse a split too short for a batch, naming both sizes and the settings behind `need`."""
    if have < need:
        raise ConfigError(field, f"{path}: {what} has {have:,} tokens, fewer than the {need:,} needed ({sizes}); "
                          "give more text or lower those settings")


# -- word-level corpora (RNN space) ------------------------------------------------------------
def words(text: str) -> list[str]:
    """Whitespace tokens with `<eos>` after every non-empty line (AWD-LSTM's PTB convention)."""
    out: list[str] = []
    for line in text.splitlines():
        tokens = line.split()
        if tokens:
            out.extend(tokens)
            out.append(EOS)
    return out


@dataclass
class VocabularyReport:
    """What a vocabulary cap did: kept and dropped word types, and the tokens now `<unk>`."""

    types: int
    kept: int
    unk_tokens: int
    tokens: int

    def line(self) -> str:
        dropped = self.types - self.kept
        share = 100.0 * self.unk_tokens / max(1, self.tokens)
        return (f"vocabulary {self.kept:,} of {self.types:,} word types"
                + (f" ({dropped:,} rarer types -> {UNK}: {self.unk_tokens:,} tokens, {share:.1f}%)" if dropped else ""))


def build_vocabulary(token_lists: list[list[str]], vocab_size: int | None, field: str = "space.vocab_size"):
    """word -> id, most frequent first (ties: first seen), `<unk>` and `<eos>` always in; capped at `vocab_size`."""
    if vocab_size is not None and (not isinstance(vocab_size, int) or vocab_size < 3):
        raise ConfigError(field, f"must be an integer >= 3 (<unk>, <eos> and at least one word) or null, got {vocab_size!r}")
    counts: Counter[str] = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    order = sorted(counts, key=lambda w: -counts[w])  # stable: ties keep first-seen order
    vocab = [UNK, EOS] + [w for w in order if w not in (UNK, EOS)]
    types = len(vocab)
    if vocab_size is not None:
        vocab = vocab[:vocab_size]
    index = {w: i for i, w in enumerate(vocab)}
    total = sum(counts.values())
    unk = sum(c for w, c in counts.items() if w not in index) + counts.get(UNK, 0)
    return index, VocabularyReport(types, len(vocab), unk, total)
