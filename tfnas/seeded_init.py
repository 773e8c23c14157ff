"""Seeded weight initialisation in which every parameter draws from its own stream.

A model's weights are a function of (seed, parameter name) only: each parameter's values come from a
generator seeded with a hash of the seed and the parameter's name, on the device the parameter lives on.
Nothing depends on which other parameters were drawn before it, so

- the parts every architecture of a space shares (a word embedding, a tied decoder) have the same values
  in every model built with one seed, and a scorer can build them once and reuse them;
- a model's cells can be built and initialised alone, or several architectures' cells together in one
  pack, with the values they get in a full build;
- the numbers are drawn on the target device (no copy of a CPU-initialised model).

torch's generators are per device kind (mt19937 on the CPU, Philox on CUDA), so one seed gives the same
weights on every run on one device kind and different (equally distributed) weights on another; a
CUDA draw also depends on the GPU model's multiprocessor count, which sizes torch's kernel grid.
"""
from __future__ import annotations

import hashlib

import torch

_KEY_MASK = (1 << 63) - 1


def stream_key(seed: int, name: str) -> int:
    """A 63-bit seed for the stream of parameter `name` under `seed`, stable across runs and platforms."""
    digest = hashlib.blake2b(f"{int(seed)}/{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & _KEY_MASK


def generator(seed: int, name: str, device: torch.device | str) -> torch.Generator:
    """A generator on `device`, seeded for parameter `name`."""
    return torch.Generator(device=torch.device(device)).manual_seed(stream_key(seed, name))


@torch.no_grad()
def uniform_(tensor: torch.Tensor, low: float, high: float, seed: int, name: str) -> torch.Tensor:
    """Fill `tensor` from U(low, high), drawn from the stream of (`seed`, `name`) on its device."""
    return tensor.uniform_(low, high, generator=generator(seed, name, tensor.device))


@torch.no_grad()
def normal_(tensor: torch.Tensor, mean: float, std: float, seed: int, name: str) -> torch.Tensor:
    """Fill `tensor` from N(mean, std^2), drawn from the stream of (`seed`, `name`) on its device."""
    return tensor.normal_(mean, std, generator=generator(seed, name, tensor.device))


def resolve_seed(seed: int | None) -> int:
    """`seed`, or for None one drawn from torch's global generator (so torch.manual_seed still decides)."""
    if seed is not None:
        return int(seed)
    return int(torch.empty((), dtype=torch.int64).random_(0, 1 << 62))
