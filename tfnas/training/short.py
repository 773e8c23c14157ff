"""train=short: train the best shortlisted architectures briefly and rank them by the trained result."""
from __future__ import annotations

import csv
import logging
import math
from pathlib import Path
from typing import Any

from tfnas.errors import ConfigError
from tfnas.training.base import ShortlistStage, check_trainer_data, cut, positive_budget, space_sections
from tfnas.training.loop import CURVE_FILE, Budget, fingerprint_of, train_candidate
from tfnas.training.sequential import final_order, spend
from tfnas.training.table import format_table, write_shortlist

log = logging.getLogger("tfnas")

CURVES_FILE = "training_curves.csv"


class ShortTraining(ShortlistStage):
    """Train the `top_k` best candidates for `steps` steps and/or `minutes` minutes each.

    Per-space settings live under the space's name (`rnn:`, `bert:`). Each candidate gets
    `<directory>/<hash>/` with curve.csv and a safetensors checkpoint; an interrupted or
    re-run stage (same run directory) resumes from it. The final ranking is by the trained
    result; candidates that failed (diverged, or an error) come after, then untrained ones.
    """

    name = "short"

    def __init__(
        self,
        top_k: int = 3,
        steps: int | None = 200,
        minutes: float | None = None,
        eval_every: int | None = None,
        checkpoint_every: int | None = 50,
        log_every: int = 10,
        resume: bool = True,
        progress: bool | None = None,
        directory: str | None = None,
        budget: int | None = None,
        **space_options: dict[str, Any],
    ):
        if not isinstance(top_k, int) or top_k < 1:
            raise ConfigError("train.top_k", f"must be a positive integer, got {top_k!r}")
        self.top_k = top_k
        self.trainings = positive_budget(budget)  # train.budget: trainings spent one at a time, each chosen by the predictor
        self.budget = Budget(steps, minutes)
        self.eval_every, self.checkpoint_every, self.log_every = eval_every, checkpoint_every, max(1, int(log_every))
        self.resume, self.progress, self.directory = resume, progress, directory
        settings = "top_k, steps, minutes, eval_every, checkpoint_every, log_every, resume, progress, directory"
        self.space_options = space_sections("short", settings, space_options)

    def check(self, space) -> None:
        check_trainer_data(space, self.space_options.get(space.name, {}))

    def describe_budget(self) -> str:
        return " and ".join(
            x for x in (self.budget.steps and f"{self.budget.steps} steps", self.budget.minutes and f"{self.budget.minutes} min") if x
        )

    def train_one(self, space, entry, run_dir, device, seed, tracker) -> float | None:
        """Train one candidate (resuming its checkpoint if any), fill `entry` in place, record it; its result or None."""
        options = self.space_options.get(space.name, {})
        root = Path(self.directory) if self.directory else Path(run_dir) / "train"
        entry["search_rank"] = entry.get("search_rank", entry.get("rank"))
        desc = f"train {entry['hash'][:10]}"
        try:
            trainer = space.trainer_class()(space, space.from_json(entry["arch"]), seed=seed, device=device, options=options)
            if not self._note_printed:
                print(f"tfnas: short training for {self.describe_budget()} each: {trainer.data_note}", flush=True)
                self._note_printed = True
            fingerprint = fingerprint_of(space, entry["hash"], seed, trainer)
            result = train_candidate(
                trainer, self.budget, root / entry["hash"], fingerprint=fingerprint,
                eval_every=self.eval_every, checkpoint_every=self.checkpoint_every, log_every=self.log_every,
                resume=self.resume, progress=self.progress, desc=desc,
                on_log=lambda step, values, e=entry: tracker.log_training(e, step, values),
            )
        except (ConfigError, KeyboardInterrupt):
            raise
        except Exception as err:  # one candidate's failure must not lose the others' results
            log.warning("%s failed: %s: %s", desc, type(err).__name__, err)
            entry.update(train_status="failed", train_error=f"{type(err).__name__}: {err}", trained_result=None)
            tracker.log_trained(entry, self.name, "trained_result", False, root / entry["hash"] / CURVE_FILE)
            return None
        entry.update(
            train_status=result.status, train_steps=result.steps, train_seconds=round(result.seconds, 3),
            train_resumed_from=result.resumed_from, train_error=result.error, **result.values,
        )
        target = getattr(trainer, "target", "eval_loss")
        entry["trained_result"] = result.values.get(target) if result.status == "ok" else None
        entry["trained_target"] = target
        tracker.log_trained(entry, self.name, "trained_result", False, root / entry["hash"] / CURVE_FILE)
        return entry["trained_result"]

    def run(self, space, shortlist, run_dir, device, seed, tracker, context=None):
        root = Path(self.directory) if self.directory else Path(run_dir) / "train"
        self._note_printed = False
        if self.trainings:
            entries = [dict(e) for e in shortlist]
            trained = spend(space, entries, context, self.trainings,
                            lambda e: self.train_one(space, e, run_dir, device, seed, tracker), self.name, "trained_result", False)
            final = cut(final_order(entries, trained, context, space, False), context, len(trained))
            chosen = trained
        else:
            listed = cut([dict(e) for e in shortlist], context)
            chosen, rest = listed[: self.top_k], listed[self.top_k :]
            if self.top_k > len(listed):
                print(f"tfnas: train.top_k={self.top_k} but the shortlist has {len(listed)} (search.top_k); training all of them", flush=True)
            for entry in chosen:
                self.train_one(space, entry, run_dir, device, seed, tracker)
            ok = sorted((e for e in chosen if e.get("train_status") == "ok"), key=lambda e: _key(e["trained_result"]))
            failed = [e for e in chosen if e.get("train_status") != "ok"]
            untrained = [{**e, "search_rank": e["rank"], "train_status": "not trained"} for e in rest]
            final = ok + failed + untrained
            for rank, entry in enumerate(final, 1):
                entry["rank"] = rank
        write_shortlist(run_dir, final)
        _collect_curves(root, chosen, Path(run_dir) / CURVES_FILE)
        trained_rows = [e for e in final if e.get("train_status") not in (None, "not trained")]
        columns = ["rank", "search_rank", "hash", "score", "train_status", "trained_result", "eval_ppl", "train_steps"]
        print(format_table(trained_rows, [c for c in columns if any(c in e for e in final)]), flush=True)
        return final


def _key(value) -> float:
    return value if value is not None and math.isfinite(value) else math.inf


def _collect_curves(root: Path, entries: list[dict], path: Path) -> None:
    """All candidates' curves in one long-format CSV (hash, search_rank, step, seconds, name, value)."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["hash", "search_rank", "step", "seconds", "name", "value"])
        for entry in entries:
            curve = root / entry["hash"] / CURVE_FILE
            if not curve.exists():
                continue
            with open(curve, newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    writer.writerow([entry["hash"], entry.get("search_rank"), row["step"], row["seconds"], row["name"], row["value"]])
