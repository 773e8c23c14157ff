"""Refuse a model that cannot fit in memory before a single tensor of it is allocated.

A space counts the parameters of its model from the config alone (`space.model.*`, the largest or
smallest architecture as it says) and calls `check_model_size`. The check compares the float32
bytes of weights, gradients and two optimizer moments (what short training holds; scoring holds
less) with the memory available now (`psutil.virtual_memory().available`, and the address-space
limit of the process where one is set). `space.model.nhid=100000000` is then one line naming
the key, not an allocator's traceback, and `space.model.nlayers=100000` an answer in
milliseconds rather than 15 GB of memory later.
"""
from __future__ import annotations

import resource
from typing import Mapping

from tfnas.errors import ConfigError

BYTES_PER_PARAM = 4  # float32
COPIES = 4  # weights, gradients, two Adam moments


def available_bytes() -> int:
    """Memory this process could still allocate: the machine's available memory, or less under RLIMIT_AS."""
    import psutil

    available = psutil.virtual_memory().available
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft not in (resource.RLIM_INFINITY, -1):
        available = min(available, max(0, soft - psutil.Process().memory_info().vms))
    return int(available)


def check_model_size(params: int, sizes: Mapping[str, int], defaults: Mapping[str, int],
                     prefix: str = "space.model") -> None:
    """Refuse `params` parameters when their training state exceeds the available memory, with a ConfigError naming
    the size key furthest above its default (`sizes`: key -> value of the keys that set the model's size)."""
    need = int(params) * BYTES_PER_PARAM * COPIES
    available = available_bytes()
    if need <= available:
        return
    key = max(sizes, key=lambda k: sizes[k] / max(1, defaults.get(k, 1)))
    others = ", ".join(f"{prefix}.{k}={v:,}" for k, v in sizes.items() if k != key)
    raise ConfigError(f"{prefix}.{key}", f"{key}={sizes[key]:,} makes a model of about {params:.3g} parameters, "
                      f"{need / 1e9:,.1f} GB as float32 weights, gradients and optimizer state, more than the "
                      f"{available / 1e9:,.1f} GB of memory available; lower {prefix}.{key}"
                      + (f" (with {others})" if others else ""))
