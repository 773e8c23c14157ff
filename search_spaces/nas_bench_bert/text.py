"""Text for the BERT space, from shipped files only (`data/`, see data/PROVENANCE.md): the tokeniser, the
metric minibatch, short pretraining's sequences, and a user's corpus and tokenizer.

The paper scored one batch of 128 OpenWebText documents padded/truncated to 512 tokens.
OpenWebText is not shipped; WikiText-2 is. Its splits hold about 60 articles each, fewer than
128, so the batch is the split's token stream cut into B consecutive windows of T tokens
(`[CLS]` + T-2 word pieces + `[SEP]`): every sequence is full length, none is padding.
"""
from __future__ import annotations

from array import array
from functools import lru_cache

import numpy as np
import torch
from transformers import PreTrainedTokenizerFast

from tfnas.data.user_corpus import iter_lines
from tfnas.errors import ConfigError
from tfnas.search_spaces.nas_bench_bert.shipped import data_path

WIKITEXT_SPLITS = ("valid", "test")


@lru_cache(maxsize=1)
def load_tokenizer() -> PreTrainedTokenizerFast:
    """The BERT uncased WordPiece tokenizer (ELECTRA-small's vocabulary, 30,522 entries)."""
    tok = PreTrainedTokenizerFast.from_pretrained(str(data_path("tokenizer")), local_files_only=True)
    return tok


@lru_cache(maxsize=8)
def _token_stream(split: str, needed: int) -> tuple[int, ...]:
    """Word-piece ids of the split's lines, in order, until at least `needed` ids (no special tokens)."""
    if split not in WIKITEXT_SPLITS:
        raise ConfigError("space.split", f"unknown WikiText-2 split {split!r}; valid choices: {', '.join(WIKITEXT_SPLITS)}")
    tok = load_tokenizer()
    ids: list[int] = []
    with open(data_path("wikitext-2", f"{split}.txt"), encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip()]
    step = 256
    for start in range(0, len(lines), step):
        for piece in tok(lines[start : start + step], add_special_tokens=False)["input_ids"]:
            ids.extend(piece)
        if len(ids) >= needed:
            break
    return tuple(ids)


def wikitext_batch(batch_size: int, seq_len: int, split: str = "valid") -> dict[str, torch.Tensor]:
    """`input_ids`, `attention_mask`, `token_type_ids` (B x T) from consecutive windows of the split."""
    if batch_size < 1:
        raise ConfigError("space.batch_size", f"must be a positive integer, got {batch_size}")
    if not 3 <= seq_len <= 512:
        raise ConfigError("space.seq_len", f"must be between 3 and 512 (the position table), got {seq_len}")
    tok = load_tokenizer()
    body = seq_len - 2
    stream = _token_stream(split, batch_size * body)
    if len(stream) < batch_size * body:
        raise ConfigError(
            "space.batch_size",
            f"WikiText-2 {split} has {len(stream)} word pieces, fewer than {batch_size} x {body}; lower batch_size or seq_len",
        )
    rows = torch.tensor(stream[: batch_size * body], dtype=torch.long).view(batch_size, body)
    cls = torch.full((batch_size, 1), tok.cls_token_id, dtype=torch.long)
    sep = torch.full((batch_size, 1), tok.sep_token_id, dtype=torch.long)
    input_ids = torch.cat([cls, rows, sep], dim=1)
    return {
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
        "token_type_ids": torch.zeros_like(input_ids),
    }


@lru_cache(maxsize=4)
def wikitext_sequences(split: str, seq_len: int) -> torch.Tensor:
    """Short pretraining's rows: the split's token stream cut into [CLS] ... [SEP] rows of `seq_len` tokens
    (N x seq_len). WikiText's own `<unk>` marker becomes the tokenizer's [UNK] rather than four word pieces."""
    if split not in WIKITEXT_SPLITS:
        raise ConfigError("train.bert.train_split", f"unknown WikiText-2 split {split!r}; shipped: valid, test")
    if seq_len < 8:
        raise ConfigError("train.bert.seq_len", f"must be at least 8, got {seq_len}")
    tokenizer = load_tokenizer()
    with open(data_path("wikitext-2", f"{split}.txt"), encoding="utf-8") as handle:
        lines = [line.replace("<unk>", tokenizer.unk_token) for line in handle if line.strip()]
    ids = [i for row in tokenizer(lines, add_special_tokens=False)["input_ids"] for i in row]
    return windows(tokenizer, ids, len(ids) // (seq_len - 2), seq_len)


# -- a user's corpus and tokenizer (space.corpus, space.tokenizer) ---------------------------------
SPECIAL_TOKENS = {  # tokenizer attribute -> spellings looked up in a tokenizer.json's vocabulary
    "cls_token": ("[CLS]", "<s>", "<cls>"), "sep_token": ("[SEP]", "</s>", "<sep>"),
    "mask_token": ("[MASK]", "<mask>"), "pad_token": ("[PAD]", "<pad>"), "unk_token": ("[UNK]", "<unk>"),
}


@lru_cache(maxsize=4)
def load_user_tokenizer(path: str) -> PreTrainedTokenizerFast:
    """A `tokenizer.json` (or a folder holding one, e.g. a save_pretrained folder) as a fast tokenizer whose
    [CLS] / [SEP] / [MASK] / [PAD] / [UNK] tokens are known (BERT or RoBERTa spellings)."""
    from pathlib import Path

    root = Path(path).expanduser()
    file = root / "tokenizer.json" if root.is_dir() else root
    if not file.is_file():
        raise ConfigError("space.tokenizer", f"{file} does not exist; give a tokenizer.json (or a folder with one)")
    try:
        if root.is_dir():
            tok = PreTrainedTokenizerFast.from_pretrained(str(root), local_files_only=True)
        else:
            tok = PreTrainedTokenizerFast(tokenizer_file=str(file))
    except Exception as err:  # the tokenizers library's parse errors
        raise ConfigError("space.tokenizer", f"{file} is not a tokenizers JSON file: {err}") from None
    vocab = tok.get_vocab()
    missing = []
    for attr, spellings in SPECIAL_TOKENS.items():
        if getattr(tok, attr, None) in vocab:
            continue
        found = next((s for s in spellings if s in vocab), None)
        if found is None:
            missing.append("/".join(spellings))
        else:
            setattr(tok, attr, found)
    if missing:
        raise ConfigError("space.tokenizer", f"{file} lacks the special tokens {', '.join(missing)} that the metric batch "
                          "and short training use; add them to the tokenizer's vocabulary")
    return tok


def corpus_stream(tokenizer, text: str) -> array:
    """Word-piece ids of every non-empty line of `text`, in order, without special tokens and never truncated.

    The ids go into an int32 array (4 bytes a piece, where a list of Python ints takes about 36) and the
    lines are tokenised 256 at a time as they are cut, so a corpus is never held as a list of its lines."""
    ids = array("i")
    batch: list[str] = []
    for line in iter_lines(text):
        line = line.strip()
        if line:
            batch.append(line)
        if len(batch) == 256:
            _extend(ids, tokenizer, batch)
            batch = []
    if batch:
        _extend(ids, tokenizer, batch)
    return ids


def _extend(ids: array, tokenizer, lines: list[str]) -> None:
    for piece in tokenizer(lines, add_special_tokens=False, truncation=False)["input_ids"]:
        ids.extend(piece)


def windows(tokenizer, stream, rows: int, seq_len: int) -> torch.Tensor:
    """`rows` consecutive windows of the stream as [CLS] + seq_len-2 pieces + [SEP] (rows x seq_len)."""
    body = seq_len - 2
    block = torch.from_numpy(np.asarray(stream[: rows * body], dtype=np.int64)).view(rows, body)
    cls = torch.full((rows, 1), tokenizer.cls_token_id, dtype=torch.long)
    sep = torch.full((rows, 1), tokenizer.sep_token_id, dtype=torch.long)
    return torch.cat([cls, block, sep], dim=1)
