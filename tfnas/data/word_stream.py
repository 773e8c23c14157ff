"""A user's word corpus read as a stream: token ids straight into compact arrays.

Holding the text and a Python list of its words costs 15 to 25 times the file (a 200 MB corpus
peaked at 3.3 to 5 GB). Here the file is read twice in chunks of 1 MB: once to check it (UTF-8,
no NUL, not empty) and measure it, once to give every word a provisional id in first-seen order
(int32, 4 bytes a token); the final ids (most frequent first) are one numpy lookup at the end.
That 200 MB corpus now raises the peak by 465 MB in 7.5 s of CPU (16 s before), and a text with
more than MAX_TYPES distinct words is refused instead of filling the memory with its vocabulary.

The result is exactly what tfnas.data.user_corpus's `split_file` + `words` + `build_vocabulary`
give on the whole text: the same 80/10/10 cuts (a cut after the line break following 80% / 90%
of the characters, or at the next whitespace in a file of fewer than 10 lines), `<eos>` after
every non-empty line part, and the same vocabulary order (ties: first seen).
"""
from __future__ import annotations

import re
from array import array
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from tfnas.data.text_file import check_file, utf8_chunks
from tfnas.data.user_corpus import EOS, FILE_CUTS, FIELD, SPLITS, UNK, VocabularyReport
from tfnas.errors import ConfigError

MAX_TYPES = 2_000_000  # distinct words; WikiText-103 has 267,735
LIMIT_FIELD = "space.max_corpus_mb"
_TOKEN = re.compile(r"\S+")
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines() line boundaries


def blocks(path: Path, limit_bytes: int):
    """(character offset, text) pieces of the file, each ending at whitespace (a word is never cut)."""
    offset, carry = 0, []
    for chunk in utf8_chunks(path, FIELD, limit_bytes, LIMIT_FIELD):
        tail = len(chunk)
        while tail > 0 and not chunk[tail - 1].isspace():  # back over the unfinished last word
            tail -= 1
        if tail == 0:  # no whitespace in this chunk: one word goes on (joined once, when it ends)
            carry.append(chunk)
            continue
        block = "".join(carry) + chunk[:tail]
        carry = [chunk[tail:]] if tail < len(chunk) else []
        yield offset, block
        offset += len(block)
    if carry:
        yield offset, "".join(carry)


@dataclass
class Measure:
    """What the first pass learns: characters, the last "\\n", and whether there are 10 non-empty lines."""

    chars: int = 0
    last_newline: int = -1
    nonempty_lines: int = 0
    has_text: bool = False


def measure(path: Path, limit_bytes: int) -> Measure:
    m = Measure()
    open_line = False  # the current line has a word
    for offset, block in blocks(path, limit_bytes):
        m.chars = offset + len(block)
        newline = block.rfind("\n")
        if newline >= 0:
            m.last_newline = offset + newline
        if not m.has_text and block.strip():
            m.has_text = True
        if m.nonempty_lines < 10:
            for line in block.splitlines(keepends=True):
                open_line = open_line or bool(line.strip())
                if line[-1] in _BREAKS:
                    m.nonempty_lines += open_line
                    open_line = False
    m.nonempty_lines += open_line
    return m


class Cut:
    """Where a single file's split ends: after the first "\\n" at or after `at` characters (a file of 10 lines
    or more that has one), else after the first whitespace at or after it. `before(p)`: a word starting at
    character p lies before the cut. Blocks are shown in order (`see`), so the "\\n" is found as it streams by."""

    def __init__(self, at: int, by_line: bool):
        self.at, self.by_line, self.newline = at, by_line, None

    def see(self, offset: int, block: str) -> None:
        if self.by_line and self.newline is None and offset + len(block) > self.at:
            i = block.find("\n", max(0, self.at - offset))
            if i >= 0:
                self.newline = offset + i

    def before(self, p: int) -> bool:
        if self.by_line:  # (before the "\n" streams by, every p asked about precedes it)
            return self.newline is None or p <= self.newline
        return p <= self.at  # a word starting after `at` follows a whitespace at or after it


class Splits:
    """Provisional word ids (first seen first) of each split, `<eos>` closing every line part with words."""

    def __init__(self, names: list[str]):
        self.names = names
        self.ids = {name: array("i") for name in names}
        self.words: defaultdict[str, int] = defaultdict()
        self.words.default_factory = self.words.__len__  # a new word gets the next id
        self.open: str | None = None  # the split holding the current line's words so far
        self._pending: dict[str, list[int]] = {name: [] for name in names}  # this block's ids, stored at its end

    def add(self, split: str, tokens: list[str]) -> None:
        if not tokens:
            return
        if self.open is not None and self.open != split:
            self.close()
        self._pending[split].extend(map(self.words.__getitem__, tokens))
        self.open = split

    def close(self) -> None:
        if self.open is not None:
            self._pending[self.open].append(self.words[EOS])
            self.open = None

    def finish(self) -> None:
        """The end of a file: its last line is closed and stored."""
        self.close()
        self.flush()

    def flush(self) -> None:
        for name, pending in self._pending.items():
            if pending:
                self.ids[name].fromlist(pending)
                pending.clear()

    def add_block(self, offset: int, block: str, split_of) -> None:
        """Every line of a block: in a tight loop when the block lies on one side of the cuts, else line by line
        (and word by word on a line that a cut crosses)."""
        if split_of(offset) == split_of(offset + len(block)):
            self._add_whole(split_of(offset), block)
        else:
            position = offset
            for line in block.splitlines(keepends=True):
                if split_of(position) == split_of(position + len(line) - 1):
                    self.add(split_of(position), line.split())
                else:
                    for m in _TOKEN.finditer(line):
                        self.add(split_of(position + m.start()), [m.group()])
                if line[-1] in _BREAKS:
                    self.close()
                position += len(line)
        self.flush()
        if len(self.words) > MAX_TYPES:
            raise ConfigError(FIELD, f"more than {MAX_TYPES:,} distinct words; is this a text corpus? (its vocabulary "
                              "alone would fill the memory)")

    def _add_whole(self, split: str, block: str) -> None:
        """`add` and `close` for every line of a block in one split, inlined: this loop is where the time goes."""
        if self.open is not None and self.open != split:
            self.close()
        pending, word_id, eos = self._pending[split], self.words.__getitem__, self.words.get(EOS)
        is_open = self.open == split
        for line in block.splitlines(keepends=True):
            tokens = line.split()
            if tokens:
                pending.extend(map(word_id, tokens))
                is_open = True
            if is_open and line[-1] in _BREAKS:
                if eos is None:
                    eos = self.words[EOS]  # first seen here, after the first line's words, as words() has it
                pending.append(eos)
                is_open = False
        self.open = split if is_open else None


def read_file(path: Path, limit_bytes: int) -> Splits:
    """One file cut into train / valid / test as tfnas.data.user_corpus.split_file cuts it."""
    m = measure(path, limit_bytes)
    if not m.has_text:
        raise ConfigError(FIELD, f"{path} is empty" + (" (only whitespace)" if m.chars else "") + "; give a text file with your corpus")
    by_line = m.nonempty_lines >= 10
    cuts = [Cut(int(m.chars * f), by_line and m.last_newline >= int(m.chars * f)) for f in FILE_CUTS]
    splits = Splits(list(SPLITS))

    def split_of(p: int) -> str:
        return "train" if cuts[0].before(p) else "valid" if cuts[1].before(p) else "test"

    for offset, block in blocks(path, limit_bytes):
        for cut in cuts:
            cut.see(offset, block)
        splits.add_block(offset, block, split_of)
    splits.finish()
    empty = [name for name in SPLITS if not len(splits.ids[name])]
    if empty:
        raise ConfigError(FIELD, f"{path} is too short to cut into train / valid / test (80% / 10% / 10%): the {', '.join(empty)} "
                          "part would be empty; give a longer text or a folder with train.txt, valid.txt and test.txt")
    return splits


def read_folder(root: Path, limit_bytes: int) -> Splits:
    found = [(s, root / f"{s}.txt") for s in SPLITS if (root / f"{s}.txt").exists()]
    if not found:
        raise ConfigError(FIELD, f"folder {root} holds none of train.txt, valid.txt, test.txt")
    splits = Splits([s for s, _ in found])
    for name, path in found:
        check_file(path, FIELD, limit_bytes, LIMIT_FIELD)
        has_text = False  # seen as the file streams by (one read of each file)
        for offset, block in blocks(path, limit_bytes):
            has_text = has_text or bool(block.strip())
            splits.add_block(offset, block, lambda p, name=name: name)
        if not has_text:
            raise ConfigError(FIELD, f"{path} is empty; give a text file with your corpus")
        splits.finish()
    return splits


def vocabulary(splits: Splits, vocab_size: int | None):
    """word -> final id (UNK, EOS, then most frequent first; ties: first seen), capped, and the provisional -> final map."""
    words = list(splits.words)  # provisional id order
    counts = np.zeros(len(words), dtype=np.int64)
    for ids in splits.ids.values():
        if len(ids):
            counts += np.bincount(np.frombuffer(ids, dtype=np.int32), minlength=len(words))
    special = {splits.words[w] for w in (UNK, EOS) if w in splits.words}
    ordered = [i for i in np.argsort(-counts, kind="stable").tolist() if i not in special]
    types = len(ordered) + 2
    kept = ordered if vocab_size is None else ordered[: vocab_size - 2]
    mapping = np.zeros(len(words), dtype=np.int64)  # everything else -> <unk> (0)
    if EOS in splits.words:
        mapping[splits.words[EOS]] = 1
    mapping[kept] = np.arange(2, 2 + len(kept))
    word2idx = {UNK: 0, EOS: 1, **{words[i]: 2 + n for n, i in enumerate(kept)}}
    report = VocabularyReport(types, len(word2idx), int(counts[mapping == 0].sum()), int(counts.sum()))
    return word2idx, mapping, report


def read_word_corpus(path, vocab_size: int | None, limit_bytes: int):
    """(word2idx, {split: LongTensor of ids}, VocabularyReport) of a corpus file or train/valid/test folder."""
    root = Path(str(path)).expanduser()
    if vocab_size is not None and (isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 3):
        raise ConfigError("space.vocab_size", f"must be an integer >= 3 (<unk>, <eos> and at least one word) or null, got {vocab_size!r}")
    if root.is_dir():
        splits = read_folder(root, limit_bytes)
    else:
        check_file(root, FIELD, limit_bytes, LIMIT_FIELD, "UTF-8 text file or a folder with train.txt / valid.txt / test.txt")
        splits = read_file(root, limit_bytes)
    word2idx, mapping, report = vocabulary(splits, vocab_size)
    tensors = {name: torch.from_numpy(mapping[np.frombuffer(ids, dtype=np.int32)]) if len(ids) else torch.zeros(0, dtype=torch.long)
               for name, ids in splits.ids.items()}
    return word2idx, tensors, report
