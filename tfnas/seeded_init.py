"""Seeded weight initialisation from named streams: what a value is depends on the seed and its stream's name only.

A stream is a generator on the device the values live on, seeded with a hash of the seed and a name: a parameter's
name ("encoder.weight"), or the name of a group of parameters drawn together (a recurrent cell's layer). Nothing
depends on which other streams were drawn before, so

- the parts every architecture of a space shares (a word embedding, a tied decoder) have the same values in every
  model built with one seed, and a scorer can build them once and reuse them;
- a model's architecture-specific part can be built and initialised alone, or several architectures' together in
  one pack, with the values it gets in a full build;
- the numbers are drawn on the target device (no copy of a CPU-initialised model).

torch's generators are per device kind (mt19937 on the CPU, Philox on CUDA), so one seed gives the same weights on
every run on one device kind and different (equally distributed) weights on another; a CUDA draw may also depend
on the GPU model (torch sizes its random kernels' grid by the multiprocessor count).
"""
from __future__ import annotations

import contextlib
import hashlib
import threading
from typing import Iterator

import torch

_KEY_MASK = (1 << 63) - 1


_INIT_FUNCTIONS = ("uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
                   "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_")
_INIT_LOCK = threading.RLock()


@contextlib.contextmanager
def without_init(device: torch.device | str) -> Iterator[None]:
    """Build modules on `device` with torch.nn.init's functions as no-ops: their values are drawn afterwards
    from named streams. Built on the meta device instead and moved with `to_empty`, a template pays for torch's
    meta kernels, whose first use (it imports torch._dynamo) cost about 1.4 s of every process's start; torch's
    own initialisation costs 40 ms per full-size build. Like transformers' `no_init_weights`, it patches
    torch.nn.init for the whole process while held: builds through it wait for each other, and a thread
    building modules some other way meanwhile would get them uninitialised (tfnas's only other builder
    thread, the BERT scorer's, builds another space)."""
    with _INIT_LOCK:
        saved = {name: getattr(torch.nn.init, name) for name in _INIT_FUNCTIONS if hasattr(torch.nn.init, name)}
        try:
            for name in saved:
                setattr(torch.nn.init, name, _keep)
            with torch.device(device):
                yield
        finally:
            for name, function in saved.items():
                setattr(torch.nn.init, name, function)


def _keep(tensor: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return tensor


def stream_key(seed: int, name: str) -> int:
    """A 63-bit seed for the stream `name` under `seed`, stable across runs and platforms."""
    digest = hashlib.blake2b(f"{int(seed)}/{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & _KEY_MASK


def generator(seed: int, name: str, device: torch.device | str) -> torch.Generator:
    """A generator on `device`, seeded for the stream `name`."""
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
