"""Where a rung's loss comes from: a real training (`TrainerCurves`) or a recorded learning curve (`RecordedCurves`).

Both answer `loss(key, steps)`: the evaluation loss of a candidate after `steps` cumulative training
steps. `tfnas.training.rungs.run_rungs` asks them rung by rung, so the comparison's replay and a
real `train=halving` run go through the same decisions.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from tfnas.errors import ConfigError
from tfnas.training.loop import Budget, fingerprint_of, train_candidate

log = logging.getLogger("tfnas")


class RecordedCurves:
    """Losses recorded once per architecture: {hash: {steps: loss}} (inf where its training failed).

    A candidate without a curve, or without a recorded step, answers inf and is listed in `missing`,
    so a comparison can name every architecture to record after one pass instead of failing at the first."""

    def __init__(self, losses: dict[str, dict[int, float]], note: str = ""):
        self.losses, self.note = losses, note
        self.missing: set[str] = set()
        # the steps every curve records: the rungs a stage can be replayed on
        self.steps = sorted(set.intersection(*(set(curve) for curve in losses.values()))) if losses else []

    def loss(self, key: str, steps: int) -> float:
        value = self.losses.get(key, {}).get(steps)
        if value is None:
            self.missing.add(key)
            return math.inf
        return float(value)


class TrainerCurves:
    """Trains for real: each call continues the candidate's training (from its checkpoint) to `steps`.

    `entries` maps hash -> shortlist entry (its `arch`); errors are kept per hash for the
    stage's report. A candidate whose training raises is answered inf (failed), never lost."""

    def __init__(self, space, entries: dict[str, dict[str, Any]], options: dict, root: Path, device, seed: int, tracker,
                 checkpoint_every: int | None = 50, log_every: int = 10, resume: bool = True, progress=None):
        self.space, self.entries, self.options, self.root = space, entries, options, Path(root)
        self.device, self.seed, self.tracker = device, seed, tracker
        self.checkpoint_every, self.log_every, self.resume, self.progress = checkpoint_every, log_every, resume, progress
        self.errors: dict[str, str] = {}
        self.note: str | None = None
        self.target = "eval_loss"

    def loss(self, key: str, steps: int) -> float:
        entry = self.entries[key]
        desc = f"rung {steps} steps {key[:10]}"
        try:
            trainer = self.space.trainer_class()(self.space, self.space.from_json(entry["arch"]), seed=self.seed,
                                                 device=self.device, options=self.options)
            if self.note is None:
                self.note = trainer.data_note
                if self.note:
                    print(f"tfnas: {self.note}", flush=True)
            self.target = getattr(trainer, "target", "eval_loss")
            fingerprint = fingerprint_of(self.space, key, self.seed, trainer)
            result = train_candidate(
                trainer, Budget(steps), self.root / key, fingerprint=fingerprint, checkpoint_every=self.checkpoint_every,
                log_every=self.log_every, resume=self.resume, progress=self.progress, desc=desc,
                on_log=lambda step, values, e=entry: self.tracker.log_training(e, step, values),
            )
        except (ConfigError, KeyboardInterrupt):
            raise
        except Exception as err:  # one candidate's failure must not lose the others' results
            log.warning("%s failed: %s: %s", desc, type(err).__name__, err)
            self.errors[key] = f"{type(err).__name__}: {err}"
            return math.inf
        if result.status != "ok":
            self.errors[key] = result.error or "failed"
            return math.inf
        value = result.values.get(self.target)
        return float(value) if value is not None and math.isfinite(value) else math.inf
