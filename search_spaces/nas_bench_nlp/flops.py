"""Floating-point work of the probe's passes, counted from the model's GEMMs (2 flops per multiply-add).

Only matrix products are counted (they are >95% of the work at full size); elementwise ops,
correlations and eigensolvers are left out, so throughput figures derived from these counts
are slight underestimates.
"""
from __future__ import annotations

from tfnas.probe import HIDDEN, JACOBIAN_NOISE, arguments


def layer_gemm_flops(cell, tokens: int) -> tuple[int, int]:
    """(forward flops, flops of the weight gradients saliency needs) of one layer over `tokens` = T*B."""
    forward = saliency_weights = 0
    for name in cell.recipe.order:
        node = cell.recipe.nodes[name]
        if node.op != "linear":
            continue
        for position, source in enumerate(node.inputs):
            in_size = cell.input_size if source == "x" else cell.hidden_size
            flops = 2 * tokens * in_size * cell.hidden_size
            forward += flops
            if position >= 1:
                saliency_weights += flops
    return forward, saliency_weights


def probe_flops(model, batch_size: int, seq_len: int, needs) -> int:
    """GEMM flops the RNNProbe runs for `needs` (mirrors its pass plan)."""
    tokens = batch_size * seq_len
    per_layer = [layer_gemm_flops(cell, tokens) for cell in model.cells]
    full_forward = sum(f for f, _ in per_layer)
    needs = set(needs)
    layers = arguments(needs, HIDDEN)
    total = 0
    if needs & {"jacobian", "saliency", "hidden_saliency", "activation_codes"}:
        total += full_forward
    elif layers:
        total += sum(f for f, _ in per_layer[: max(layers)])
    if "jacobian" in needs:
        total += full_forward  # input gradients only
    if needs & {"saliency", "hidden_saliency"}:
        total += full_forward  # input gradients down to the (tied) embedding
        if "saliency" in needs:
            total += sum(w for _, w in per_layer)
    noises = arguments(needs, JACOBIAN_NOISE)
    total += len(noises) * 2 * full_forward  # forward + input gradients per amplitude
    return total
