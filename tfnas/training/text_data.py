"""WikiText-2 as fixed-length WordPiece sequences for short BERT pretraining (shipped files only)."""
from __future__ import annotations

from functools import lru_cache

import torch

from tfnas.data import resource_path


@lru_cache(maxsize=1)
def load_tokenizer():
    """The BERT uncased WordPiece tokenizer shipped at tfnas/resources/tokenizer/."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast.from_pretrained(str(resource_path("tokenizer")))


@lru_cache(maxsize=4)
def wikitext_sequences(split: str, seq_len: int) -> torch.Tensor:
    """The split's token stream cut into [CLS] ... [SEP] rows of `seq_len` tokens (N x seq_len).

    WikiText's own `<unk>` marker becomes the tokenizer's [UNK] rather than four word pieces.
    """
    from tfnas.errors import ConfigError

    if split not in ("valid", "test"):
        raise ConfigError("train.bert.train_split", f"unknown WikiText-2 split {split!r}; shipped: valid, test")
    if seq_len < 8:
        raise ConfigError("train.bert.seq_len", f"must be at least 8, got {seq_len}")
    tokenizer = load_tokenizer()
    with open(resource_path("wikitext-2", f"{split}.txt"), encoding="utf-8") as handle:
        lines = [line.replace("<unk>", tokenizer.unk_token) for line in handle if line.strip()]
    ids = [i for row in tokenizer(lines, add_special_tokens=False)["input_ids"] for i in row]
    body = seq_len - 2
    rows = len(ids) // body
    stream = torch.tensor(ids[: rows * body], dtype=torch.long).view(rows, body)
    cls = torch.full((rows, 1), tokenizer.cls_token_id, dtype=torch.long)
    sep = torch.full((rows, 1), tokenizer.sep_token_id, dtype=torch.long)
    return torch.cat([cls, stream, sep], 1)
