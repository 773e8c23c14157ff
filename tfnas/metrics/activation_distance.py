"""Activation distance (NASWOT, Mellor et al. 2021): how distinct the binary activation codes of inputs are.

Probe protocol: need ``activation_codes`` -> ``probe.activation_codes()``, a list of 0/1
tensors of shape (n x m), one row per input (sequence or token), each list entry one
activation site. K accumulates x xT + (1 - x)(1 - x)T over all sites; the score is log|det K|.
"""
from __future__ import annotations

import torch

from tfnas.metrics.base import METRICS, NormalizableMetric


def hamming_kernel(codes: list[torch.Tensor], chunk_columns: int = 1 << 18) -> torch.Tensor:
    """K = sum over sites of x xT + (1-x)(1-x)T: the number of units on which two inputs agree.

    Computed as K = 2 X XT - r_i - r_j + m over the sites concatenated into chunks (X: n x m,
    r: row sums), one GEMM per chunk instead of two per site. The GEMM runs in float32, which is
    exact here: every partial sum is an integer below 2^24 (a GEMM has at most 2^23 columns).
    """
    kernel = None
    chunk: list[torch.Tensor] = []
    width = 0

    def flush():
        nonlocal kernel, chunk, width
        x = torch.cat(chunk, 1)
        rows = x.sum(1, dtype=torch.float64)
        gram = sum((c.to(torch.float32) @ c.to(torch.float32).t()).to(torch.float64) for c in x.split(1 << 23, dim=1))
        term = 2 * gram - rows[:, None] - rows[None, :] + x.size(1)
        kernel = term if kernel is None else kernel + term
        chunk, width = [], 0

    for x in codes:
        x = x.reshape(x.size(0), -1)
        if chunk and width + x.size(1) > chunk_columns:
            flush()
        chunk.append(x)
        width += x.size(1)
    if chunk:
        flush()
    return kernel


def activation_kernel(probe) -> torch.Tensor:
    """The probe's K: its cached `activation_kernel()` where it offers one (several metrics read the
    same K, which is costly at large batches), else computed from its codes."""
    if hasattr(probe, "activation_kernel"):
        return probe.activation_kernel()
    return hamming_kernel(probe.activation_codes())


@METRICS.register("activation_distance")
class ActivationDistance(NormalizableMetric):
    """log|det K| (the metric's definition); `normalized` divides by the number of activation sites."""

    name = "activation_distance"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {"activation_codes"}

    def compute(self, probe) -> float:
        codes = probe.activation_codes()
        sign, logdet = torch.linalg.slogdet(activation_kernel(probe))
        value = float(logdet) if sign != 0 else float("-inf")
        return value / len(codes) if self.normalized and codes else value
