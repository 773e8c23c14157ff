"""What short training needs from a search space: model, data, loss, evaluation (one Trainer per space).

The generic loop (tfnas.training.loop) owns everything that is the same for every space:
the budget, clipping, divergence checks, checkpoints, progress and curves. A space brings a
Trainer class, returned by its `SearchSpace.trainer_class()`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import torch
from torch import nn



class Trainer(ABC):
    """Short training of one architecture. Subclasses set `model` (every trained module) in __init__.

    `train_loss(step)` must depend only on the step number, the model and the state returned by
    `extra_state()`, so that a resumed run draws the same batches as an uninterrupted one.
    """

    #: the value the shortlist is ranked by (lower is better), returned by evaluate()
    target = "eval_loss"
    #: one line saying what is trained on and what is evaluated on
    data_note = ""

    model: nn.Module

    def __init__(self, space, arch, *, seed: int, device: torch.device, options: dict[str, Any]):
        self.space, self.arch, self.seed, self.device = space, arch, seed, torch.device(device)
        self.options = dict(options)

    @abstractmethod
    def optimizer(self) -> torch.optim.Optimizer:
        """A new optimizer over the trained parameters."""

    def before_step(self, step: int, optimizer: torch.optim.Optimizer) -> None:
        """Set the step's learning rate (warm-up) etc.; a function of `step` only."""

    @abstractmethod
    def train_loss(self, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        """The loss to minimise at `step` and the values to log."""

    def clip_gradients(self) -> float:
        """Clip gradients in place; return the total norm (non-finite means divergence)."""
        clip = self.options.get("clip")
        params = [p for p in self.model.parameters() if p.grad is not None]
        norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        if clip and torch.isfinite(norm):  # a non-finite norm leaves the gradients as they are, for diagnose()
            torch.nn.utils.clip_grads_with_norm_(params, clip, norm)
        return float(norm)

    def diagnose(self) -> str:
        """After a non-finite loss or gradient: name the offending tensors (parameters here; subclasses add more)."""
        bad_values = [n for n, p in self.model.named_parameters() if not bool(torch.isfinite(p).all())]
        bad_grads = [n for n, p in self.model.named_parameters() if p.grad is not None and not bool(torch.isfinite(p.grad).all())]
        parts = []
        if bad_values:
            parts.append(f"non-finite parameters: {_names(bad_values)}")
        if bad_grads:
            parts.append(f"non-finite gradients: {_names(bad_grads)}")
        else:
            grads = [(float(p.grad.abs().max()), n) for n, p in self.model.named_parameters() if p.grad is not None]
            if grads:
                value, name = max(grads)
                parts.append(f"largest gradient: {name} (max |g| {value:.3g})")
        return "; ".join(parts)

    @abstractmethod
    def evaluate(self) -> dict[str, float]:
        """Held-out results, including `self.target`."""

    def extra_state(self) -> dict[str, torch.Tensor]:
        """Tensors besides weights and optimizer that a resumed run needs (e.g. a carried hidden state)."""
        return {}

    def load_extra_state(self, tensors: dict[str, torch.Tensor]) -> None:
        pass

    @abstractmethod
    def save_weights(self, directory: Path) -> None:
        """Write the model weights under `directory` as safetensors."""

    @abstractmethod
    def load_weights(self, directory: Path) -> None:
        """Read weights written by save_weights into the existing modules."""


def _names(names: list[str], most: int = 6) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
