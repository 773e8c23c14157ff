"""The RNN's language-model pass for the label-based proxies (see tfnas/probe/lm_pass.py).

Loss: next-token cross-entropy through the tied decoder on the metric batch shifted by one token
(the outputs at steps 1..T-1 predict tokens 2..T), mean over the (T-1) x B predicted tokens.
Layers: one per `linear` node of every layer's cell (all its input weights together), plus the
decoder (its weight is the tied embedding). Minibatches: the batch's B sequences (columns) in
LM_CHUNKS contiguous groups; sequences are independent, so each group is its own forward.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from tfnas.errors import ConfigError
from tfnas.probe import LM_CHUNKS
from tfnas.probe.lm_pass import ChunkPass, perturbation

ZEN_SEED = 1


def lm_layers(model) -> list[tuple[str, list[torch.Tensor]]]:
    layers = []
    for index, cell in enumerate(model.cells, 1):
        for name in cell.recipe.order:
            node = cell.recipe.nodes[name]
            if node.op == "linear":
                layers.append((f"layer{index}.{name}", [cell.weights[f"{name}__{p}"] for p in range(len(node.inputs))]))
    layers.append(("decoder", [model.decoder.weight]))
    return layers


def column_groups(batch_size: int) -> list[torch.Tensor]:
    if batch_size < LM_CHUNKS:
        raise ConfigError(
            "space.batch_size", f"the LM pass splits the batch into {LM_CHUNKS} minibatches; needs >= {LM_CHUNKS} sequences, got {batch_size}"
        )
    return list(torch.arange(batch_size).chunk(LM_CHUNKS))


def chunk_passes(model, tokens: torch.Tensor):
    """One callable per minibatch (see lm_pass.run_lm_pass)."""
    steps, batch = tokens.shape
    if steps < 2:
        raise ConfigError("space.seq_len", "the LM loss predicts each next token: seq_len must be >= 2")
    predicted = (steps - 1) * batch
    with torch.no_grad():
        clean = model.embed(tokens)
    noise = perturbation(clean.shape, clean, ZEN_SEED)
    linear_names = [n for n in model.recipe.order if model.recipe.nodes[n].op == "linear"]

    def make(cols: torch.Tensor):
        def run(want_fisher: bool, want_jacobian: bool, want_zen: bool) -> ChunkPass:
            tok = tokens[:, cols]
            embedded = model.embed(tok)
            records: list | None = [] if want_fisher else None
            outputs, _ = model.run_layers(embedded, records=records)
            y = outputs[-1]
            logits = model.decoder(y[:-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tok[1:].reshape(-1))
            chunk = ChunkPass(loss, (steps - 1) * len(cols) / predicted, len(cols))
            if want_fisher:
                for layer in records:  # one group per linear node: its B x H output at every step
                    chunk.acts.extend(([step[name] for step in layer], 1, 0) for name in linear_names)
                chunk.acts.append(([logits], 2, 1))  # the decoder: (T-1) x B x V
            if want_jacobian:
                chunk.embedded, chunk.jacobian_output = embedded, y
                chunk.jacobian_cotangent = torch.ones_like(y)
                classes = torch.full_like(tok, -1)
                classes[:-1] = tok[1:]  # a position's class: the token it must predict
                chunk.token_classes = classes
            if want_zen:
                with torch.no_grad():
                    noisy, _ = model.run_layers(embedded.detach() + noise[:, cols])
                    chunk.zen_sum = float((y.detach() - noisy[-1]).abs().sum(dtype=torch.float64))
            return chunk

        return run

    return [make(cols) for cols in column_groups(batch)]


def flops_per_token(model) -> float:
    """Multiply-adds x 2 of the cells' linear maps per token (all layers); the decoder, the same for
    every cell, and elementwise operations are left out."""
    total = 0
    for cell in model.cells:
        for name in cell.recipe.order:
            node = cell.recipe.nodes[name]
            if node.op == "linear":
                for source in node.inputs:
                    total += 2 * (cell.input_size if source == "x" else cell.hidden_size) * cell.hidden_size
    return float(total)
