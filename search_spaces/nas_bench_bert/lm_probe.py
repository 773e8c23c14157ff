"""The BERT space's masked-language-model pass for the label-based proxies (tfnas/probe/lm_pass.py).

Mask: a fixed, seeded (MASK_SEED) 15 % of the positions between [CLS] and [SEP] (at least one per
sequence), replaced by [MASK]. Head: tied to the embeddings, no new parameters: the hidden state
goes back to the embedding size through the transpose of the embeddings' own projection (when the
hidden size differs from it), then onto the word-embedding matrix: logits = h W_p E^T.
Loss: cross-entropy of the masked positions' original tokens, mean over them.
Layers: every Linear/Conv1d weight of the model (embedding projection included) and the tied head
(the word-embedding matrix). Minibatches: the batch's sequences in LM_CHUNKS contiguous groups.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from tfnas.errors import ConfigError
from tfnas.probe import LM_CHUNKS
from tfnas.probe.lm_pass import ChunkPass, perturbation

MASK_PROB = 0.15
MASK_SEED = 0
JACOBIAN_SEED = 0
ZEN_SEED = 1
MASK_TOKEN_ID = 103  # [MASK] in the shipped BERT uncased vocabulary


def lm_layers(model) -> list[tuple[str, list[torch.Tensor]]]:
    layers = [(name, [m.weight]) for name, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv1d))]
    layers.append(("head", [model.embeddings.word_embeddings.weight]))
    return layers


def lm_classes(batch: dict) -> torch.Tensor:
    """Each position's class (the token the MLM predicts there); -1 for [CLS], [SEP] and padding."""
    ids = batch["input_ids"].clone()
    ids[:, 0] = -1
    ids[:, -1] = -1
    mask = batch.get("attention_mask")
    if mask is not None:
        ids[mask == 0] = -1
    return ids


def mlm_mask(batch: dict) -> torch.Tensor:
    """The fixed seeded 15 % mask (B x T bool) over maskable positions, at least one per sequence."""
    ids = batch["input_ids"]
    if ids.size(1) < 3:
        raise ConfigError("space.seq_len", "the masked-LM loss needs a token between [CLS] and [SEP]: seq_len >= 3")
    maskable = lm_classes(batch) >= 0
    generator = torch.Generator(device="cpu").manual_seed(MASK_SEED)
    mask = (torch.rand(ids.shape, generator=generator) < MASK_PROB).to(ids.device) & maskable
    first = maskable.float().argmax(1)
    empty = ~mask.any(1)
    mask[empty, first[empty]] = True
    return mask


def tied_logits(model, hidden: torch.Tensor) -> torch.Tensor:
    project = model.embeddings.project
    if project is not None:
        hidden = hidden @ project.weight  # (n, hidden) @ (hidden, e)
    return hidden @ model.embeddings.word_embeddings.weight.t()


def chunk_passes(model, batch: dict):
    """One callable per minibatch (see lm_pass.run_lm_pass)."""
    size = batch["input_ids"].size(0)
    if size < LM_CHUNKS:
        raise ConfigError(
            "space.batch_size", f"the LM pass splits the batch into {LM_CHUNKS} minibatches; needs >= {LM_CHUNKS} sequences, got {size}"
        )
    mask = mlm_mask(batch)
    vocab = model.config.vocab_size
    mask_id = MASK_TOKEN_ID if MASK_TOKEN_ID < vocab else vocab - 1  # toy vocabularies (tests): the last id
    masked_ids = batch["input_ids"].masked_fill(mask, mask_id)
    total = int(mask.sum())
    classes = lm_classes(batch)
    inputs = {**batch, "input_ids": masked_ids}
    with torch.no_grad():
        clean = model.embeddings(masked_ids, batch.get("token_type_ids"))
    noise = perturbation(clean.shape, clean, ZEN_SEED)
    generator = torch.Generator(device="cpu").manual_seed(JACOBIAN_SEED)
    cotangent = torch.randn(clean.shape, generator=generator).to(clean)
    maps = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d))]

    def make(rows: torch.Tensor):
        def run(want_fisher: bool, want_jacobian: bool, want_zen: bool) -> ChunkPass:
            part = {k: v[rows] for k, v in inputs.items()}
            keep: dict = {}
            acts: dict = {m: [] for m in maps} if want_fisher else {}
            handles = [model.embeddings.register_forward_hook(lambda mod, i, out: keep.__setitem__("embedded", out))]
            if want_fisher:
                handles += [m.register_forward_hook(lambda mod, i, out: acts[mod].append(out)) for m in maps]
            try:  # the math kernel: the fused one has no double backward (grasp), and one kernel for all keeps values equal
                with sdpa_kernel([SDPBackend.MATH]):
                    out = model(**part).last_hidden_state
            finally:
                for handle in handles:
                    handle.remove()
            where = mask[rows]
            logits = tied_logits(model, out[where])
            loss = F.cross_entropy(logits, batch["input_ids"][rows][where])
            chunk = ChunkPass(loss, int(where.sum()) / total, len(rows))
            if want_fisher:
                seq_index = where.nonzero()[:, 0]
                chunk.acts = [(acts[m], 1 if isinstance(m, nn.Conv1d) else -1, 0) for m in maps if acts[m]]
                chunk.acts.append(([logits], -1, seq_index))
            if want_jacobian:
                chunk.embedded, chunk.jacobian_output = keep["embedded"], out
                chunk.jacobian_cotangent = cotangent[rows]
                chunk.token_classes = classes[rows]
            if want_zen:
                shift = noise[rows]
                handle = model.embeddings.register_forward_hook(lambda mod, i, o: o + shift)
                try:
                    with torch.no_grad(), sdpa_kernel([SDPBackend.MATH]):
                        noisy = model(**part).last_hidden_state
                finally:
                    handle.remove()
                chunk.zen_sum = float((out.detach() - noisy).abs().sum(dtype=torch.float64))
            return chunk

        return run

    return [make(rows) for rows in torch.arange(size).chunk(LM_CHUNKS)]


def flops_per_token(model, batch: dict) -> float:
    """The encoder's forward flops on one sequence of the batch's length, per token (torch's counter)."""
    one = {k: v[:1] for k, v in batch.items()}
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(**one)
    return counter.get_total_flops() / one["input_ids"].size(1)
