"""Tokeniser and metric minibatch for the BERT space, from shipped files only.

The paper scored one batch of 128 OpenWebText documents padded/truncated to 512 tokens.
OpenWebText is not shipped; WikiText-2 is. Its splits hold about 60 articles each, fewer than
128, so the batch is the split's token stream cut into B consecutive windows of T tokens
(`[CLS]` + T-2 word pieces + `[SEP]`): every sequence is full length, none is padding.
"""
from __future__ import annotations

from functools import lru_cache

import torch
from transformers import PreTrainedTokenizerFast

from tfnas.data import resource_path
from tfnas.errors import ConfigError

WIKITEXT_SPLITS = ("valid", "test")


@lru_cache(maxsize=1)
def load_tokenizer() -> PreTrainedTokenizerFast:
    """The BERT uncased WordPiece tokenizer (ELECTRA-small's vocabulary, 30,522 entries)."""
    tok = PreTrainedTokenizerFast.from_pretrained(str(resource_path("tokenizer")), local_files_only=True)
    return tok


@lru_cache(maxsize=8)
def _token_stream(split: str, needed: int) -> tuple[int, ...]:
    """Word-piece ids of the split's lines, in order, until at least `needed` ids (no special tokens)."""
    if split not in WIKITEXT_SPLITS:
        raise ConfigError("space.split", f"unknown WikiText-2 split {split!r}; valid choices: {', '.join(WIKITEXT_SPLITS)}")
    tok = load_tokenizer()
    ids: list[int] = []
    with open(resource_path("wikitext-2", f"{split}.txt"), encoding="utf-8") as handle:
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
