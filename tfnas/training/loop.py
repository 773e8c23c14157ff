"""The training loop shared by every space: budget, divergence checks, checkpoints, curves, progress."""
from __future__ import annotations

import csv
import logging
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from tqdm.auto import tqdm

from tfnas.errors import ConfigError
from tfnas.training.checkpoint import load_checkpoint, read_info, save_checkpoint

log = logging.getLogger("tfnas")

CURVE_FILE = "curve.csv"
CHECKPOINT_DIR = "checkpoint"


@dataclass(frozen=True)
class Budget:
    """Stop at `steps` optimizer steps or after `minutes` of training, whichever comes first."""

    steps: int | None = None
    minutes: float | None = None

    def __post_init__(self):
        if self.steps is None and self.minutes is None:
            raise ConfigError("train.steps", "set a training budget: train.steps=N and/or train.minutes=M")
        if self.steps is not None and (not isinstance(self.steps, int) or self.steps < 1):
            raise ConfigError("train.steps", f"must be a positive integer or null, got {self.steps!r}")
        if self.minutes is not None and not self.minutes > 0:
            raise ConfigError("train.minutes", f"must be a positive number of minutes or null, got {self.minutes!r}")

    def done(self, step: int, seconds: float) -> bool:
        return (self.steps is not None and step >= self.steps) or (
            self.minutes is not None and seconds >= 60.0 * self.minutes
        )


@dataclass
class TrainingResult:
    """How one candidate's short training ended."""

    status: str  # "ok" | "failed"
    steps: int
    seconds: float
    values: dict[str, float] = field(default_factory=dict)  # final evaluation and last training values
    error: str | None = None
    resumed_from: int | None = None
    diverged_at: int | None = None  # the step whose loss or gradient was not finite
    offending: str | None = None  # the trainer's diagnosis of that step (which tensor went first)


class Diverged(RuntimeError):
    """Training produced a non-finite loss or gradient; `step` and `tensor` (what went wrong first) say where."""

    def __init__(self, message: str, step: int | None = None, tensor: str = ""):
        super().__init__(f"{message}: {tensor}" if tensor else message)
        self.step, self.tensor = step, tensor


def _diagnose(trainer) -> str:
    try:
        return trainer.diagnose()
    except Exception as err:  # the diagnosis must never hide the divergence itself
        return f"(diagnosis failed: {type(err).__name__}: {err})"


class CurveWriter:
    """Long-format training curve (step, name, value); on resume, rows after the checkpoint are dropped."""

    fields = ["step", "seconds", "name", "value"]

    def __init__(self, path: Path, keep_upto: int | None):
        self.path = Path(path)
        rows = []
        if keep_upto is not None and self.path.exists():
            with open(self.path, newline="", encoding="utf-8") as handle:
                rows = [r for r in csv.DictReader(handle) if int(r["step"]) <= keep_upto]
        self._handle = open(self.path, "w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._handle, fieldnames=self.fields)
        self._writer.writeheader()
        self._writer.writerows(rows)
        self._handle.flush()

    def write(self, step: int, seconds: float, values: dict[str, float]) -> None:
        for name, value in values.items():
            self._writer.writerow({"step": step, "seconds": f"{seconds:.3f}", "name": name, "value": repr(float(value))})
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def _finite(values: dict[str, float]) -> bool:
    """Losses must stay finite; a perplexity may overflow to inf on a finite but huge loss."""
    return all(math.isfinite(v) for k, v in values.items() if "loss" in k)


def fingerprint_of(space, key: str, seed: int, trainer) -> dict[str, Any]:
    """What a checkpoint must match to be continued: the space, the architecture's hash, the seed and the trainer's
    resolved options (one definition, so every stage that trains a candidate continues the others' checkpoints)."""
    return json.loads(json.dumps({"space": space.name, "hash": key, "seed": seed, "options": trainer.options}, default=str))


def train_candidate(
    trainer,
    budget: Budget,
    directory: Path,
    *,
    fingerprint: dict[str, Any],
    eval_every: int | None = None,
    checkpoint_every: int | None = None,
    log_every: int = 10,
    resume: bool = True,
    progress: bool | None = None,
    on_log: Callable[[int, dict[str, float]], None] | None = None,
    desc: str = "train",
) -> TrainingResult:
    """Train `trainer` until `budget`, writing curve.csv and checkpoint/ under `directory`.

    With `resume`, a checkpoint of the same `fingerprint` (architecture and settings) in
    `directory` is continued: same step count, optimizer state, RNG state and carried data state,
    so the result equals an uninterrupted run. A non-finite loss or gradient ends training with
    status "failed" (the last checkpoint is kept); it never raises.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ckpt = directory / CHECKPOINT_DIR
    optimizer = trainer.optimizer()
    start = _restore(trainer, optimizer, ckpt, fingerprint, budget, resume, desc)
    if isinstance(start, TrainingResult):
        return start
    step, seconds, resumed_from = start
    curve = CurveWriter(directory / CURVE_FILE, keep_upto=step if resumed_from is not None else None)
    last: dict[str, float] = {}

    def record(values: dict[str, float]) -> None:
        curve.write(step, seconds, values)
        if on_log is not None:
            on_log(step, values)

    def checkpoint(status: str = "ok", final: bool = False, values=None, error=None) -> None:
        save_checkpoint(
            ckpt, trainer, optimizer,
            {"fingerprint": fingerprint, "step": step, "seconds": seconds, "status": status,
             "final": final, "values": values or {}, "error": error},
        )

    total = budget.steps
    bar = tqdm(total=total, initial=step, desc=desc, unit="step", leave=False,
               disable=None if progress is None else not progress)
    try:
        while not budget.done(step, seconds):
            started = time.perf_counter()
            loss, values = _optimizer_step(trainer, optimizer, step)
            step += 1
            seconds += time.perf_counter() - started
            last = values
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
            if step % log_every == 0 or step == 1:
                record(values)
            if eval_every and step % eval_every == 0 and not budget.done(step, seconds):
                record(_evaluate(trainer, step))
            if checkpoint_every and step % checkpoint_every == 0 and not budget.done(step, seconds):
                checkpoint()
        evaluation = _evaluate(trainer, step)
        record(evaluation)
        final = {**{f"last_{k}": v for k, v in last.items()}, **evaluation}
        checkpoint(final=True, values=final)
        return TrainingResult("ok", step, seconds, final, None, resumed_from)
    except Diverged as err:
        log.warning("%s: training diverged: %s", desc, err)
        info = read_info(ckpt) or {}
        info.update(diverged_at=err.step, offending=err.tensor or None)
        _mark_failed(ckpt, info, fingerprint, step, seconds, str(err))
        return TrainingResult("failed", step, seconds, {}, f"diverged: {err}", resumed_from,
                              diverged_at=err.step, offending=err.tensor or None)
    finally:
        bar.close()
        curve.close()


def _evaluate(trainer, step: int) -> dict[str, float]:
    """The trainer's evaluation; a non-finite loss there raises Diverged."""
    evaluation = trainer.evaluate()
    if not _finite(evaluation):
        raise Diverged(f"non-finite evaluation {evaluation} at step {step}", step, "evaluation loss")
    return evaluation


def _restore(trainer, optimizer, ckpt: Path, fingerprint, budget: Budget, resume: bool, desc: str):
    """Where training starts: (step, seconds, resumed_from) from a matching checkpoint or from scratch (seeded),
    or the TrainingResult itself when the checkpoint already holds a failed or finished training."""
    info = read_info(ckpt) if resume else None
    if info is not None and info.get("fingerprint") != fingerprint:
        log.warning("%s: checkpoint in %s is for other settings; starting afresh", desc, ckpt)
        info = None
    if info is None:
        torch.manual_seed(trainer.seed)
        return 0, 0.0, None
    if info.get("status") == "failed":
        return TrainingResult("failed", info["step"], info["seconds"], info.get("values", {}), info.get("error"), info["step"],
                              diverged_at=info.get("diverged_at"), offending=info.get("offending"))
    info = load_checkpoint(ckpt, trainer, optimizer)
    step, seconds = info["step"], info["seconds"]
    if budget.done(step, seconds) and info.get("final"):
        return TrainingResult("ok", step, seconds, info["values"], None, step)
    return step, seconds, step


def _optimizer_step(trainer, optimizer, step: int):
    """One training step; a non-finite loss or gradient norm raises Diverged (with the first offending tensor)."""
    trainer.model.train()
    trainer.before_step(step, optimizer)
    optimizer.zero_grad(set_to_none=True)
    loss, values = trainer.train_loss(step)
    if not torch.isfinite(loss):
        raise Diverged(f"non-finite training loss ({loss.item()}) at step {step + 1}", step + 1, _diagnose(trainer))
    loss.backward()
    norm = trainer.clip_gradients()
    if not math.isfinite(norm):
        raise Diverged(f"non-finite gradient norm ({norm}) at step {step + 1}", step + 1, _diagnose(trainer))
    optimizer.step()
    return loss, values


def _mark_failed(ckpt: Path, info: dict, fingerprint, step: int, seconds: float, error: str) -> None:
    """Record the failure in the checkpoint's state.json (keeping its weights) so a resume does not retry it."""
    import json

    ckpt.mkdir(parents=True, exist_ok=True)
    info.update({"fingerprint": fingerprint, "status": "failed", "error": error, "failed_at": step,
                 "step": info.get("step", step), "seconds": seconds})
    info.setdefault("optimizer", {"state": {}, "param_groups": []})
    with open(ckpt / "state.json", "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=1)
