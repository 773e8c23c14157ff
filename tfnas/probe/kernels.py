"""The NASWOT kernel of a probe's activation codes (Mellor et al., "Neural Architecture Search without
Training", ICML 2021), computed once per probe for every metric that reads it."""
from __future__ import annotations

import torch


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


class ActivationKernelMixin:
    """`activation_kernel()` of the `activation_codes` kind for a probe that implements `activation_codes()`:
    K of its codes, computed on first use and kept (several metrics read the same K, costly at large batches)."""

    _activation_kernel: torch.Tensor | None = None

    def activation_kernel(self) -> torch.Tensor:
        if self._activation_kernel is None:
            self._activation_kernel = hamming_kernel(self.activation_codes())
        return self._activation_kernel
