"""A synthetic learning-curve benchmark: each "architecture" is a known learning curve, trained for real.

An architecture is (floor, amplitude, rate). Its model is one scalar weight w (starting at 1)
trained by plain SGD on w^2 with learning rate `rate`, so after t steps w = (1 - 2 rate)^t and
the evaluation loss is floor + amplitude * w^2: a curve known in closed form (`curve_value`)
that goes through the real training loop, optimizer, checkpoints and resume. Curves with a low
floor but a slow rate start badly and win late, so the order changes between rungs.

For the kill -9 test, TFNAS_CURVES_LOG names a file that gets one "hash step" line per
completed step, and TFNAS_CURVES_KILL="hash:step" kills the process (SIGKILL) when that
candidate starts that step.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

import torch
from safetensors.torch import load_model, save_model
from torch import nn

from synthetic import ModelFreeSpace
from tfnas.training.trainer import Trainer


def arch_hash(arch) -> str:
    return "c_{}_{}_{}".format(*arch).replace(".", "p")


def curve_value(arch, steps: int) -> float:
    floor, amplitude, rate = arch
    return floor + amplitude * (1.0 - 2.0 * rate) ** (2 * steps)


class CurveSpace(ModelFreeSpace):
    name = "curves"

    def sample(self, rng):
        return (round(float(rng.uniform(1, 2)), 3), round(float(rng.uniform(0.5, 3)), 3), round(float(rng.uniform(0.002, 0.05)), 4))

    def mutate(self, arch, rng):
        return self.sample(rng)

    def validate(self, arch):
        assert len(arch) == 3

    def hash(self, arch):
        return arch_hash(arch)

    def to_json(self, arch):
        return list(arch)

    def from_json(self, data):
        return tuple(float(x) for x in data)

    def suggest(self, trial):
        raise NotImplementedError

    def trainer_class(self):
        return CurveTrainer


class _Weight(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones((), dtype=torch.float64))


def _log_path():
    return os.environ.get("TFNAS_CURVES_LOG")


class CurveTrainer(Trainer):
    def __init__(self, space, arch, *, seed, device, options):
        super().__init__(space, arch, seed=seed, device=device, options=options)
        self.model = _Weight()
        self.key = arch_hash(arch)
        self._pending = None

    def optimizer(self):
        return torch.optim.SGD(self.model.parameters(), lr=self.arch[2])

    def train_loss(self, step):
        if self._pending is not None and _log_path():  # the previous step completed (its optimizer step ran)
            with open(_log_path(), "a", encoding="utf-8") as handle:
                handle.write(f"{self.key} {self._pending}\n")
        self._pending = None
        kill = os.environ.get("TFNAS_CURVES_KILL")
        if kill and kill == f"{self.key}:{step + 1}":
            os.kill(os.getpid(), signal.SIGKILL)
        self._pending = step + 1
        loss = self.model.w ** 2
        return loss, {"train_loss": float(loss.detach())}

    def evaluate(self):
        if self._pending is not None and _log_path():
            with open(_log_path(), "a", encoding="utf-8") as handle:
                handle.write(f"{self.key} {self._pending}\n")
            self._pending = None
        floor, amplitude, _ = self.arch
        return {"eval_loss": floor + amplitude * float(self.model.w.detach()) ** 2}

    def save_weights(self, directory: Path):
        save_model(self.model, str(Path(directory) / "w.safetensors"))

    def load_weights(self, directory: Path):
        load_model(self.model, str(Path(directory) / "w.safetensors"))
