"""train=halving: successive halving over short-training budgets (multi-fidelity training of the shortlist).

Successive halving (Jamieson & Talwalkar, AISTATS 2016; the inner loop of Hyperband, Li et al.,
JMLR 2018): the `top_k` best shortlisted candidates are trained for `min_steps` steps, the best
1/`eta` of them (by the trained evaluation loss) continue to `eta` times the budget, and so on up
to `max_steps`, so that most of the training budget goes to a few candidates.

Each rung continues training from the candidate's checkpoint of the previous rung (budgets are
cumulative optimizer steps), so no step is trained twice. Every finished rung is recorded in
`<directory>/halving_state.json` (written atomically) before the next one starts; a run that is
killed (even with kill -9) and started again with the same run directory and settings reuses the
recorded rungs, resumes each unfinished candidate from its last checkpoint, and ends with the same
ranking as an uninterrupted run.
"""
from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any, Callable

from tfnas.errors import ConfigError
from tfnas.validate import integer, positive_int
from tfnas.training.base import ShortlistStage, space_sections
from tfnas.training.loop import Budget, train_candidate
from tfnas.training.short import CURVES_FILE, _collect_curves
from tfnas.training.table import format_table, write_shortlist

log = logging.getLogger("tfnas")

STATE_FILE = "halving_state.json"


def plan_rungs(candidates: int, min_steps: int, max_steps: int, eta: int) -> list[tuple[int, int]]:
    """[(cumulative step budget, number of candidates trained to it)] for each rung.

    Budgets grow by `eta` from `min_steps` and the last is `max_steps`; each rung keeps
    max(1, n // eta) of the previous rung's n candidates.
    """
    budgets, budget = [], min_steps
    while budget < max_steps:
        budgets.append(budget)
        budget *= eta
    budgets.append(max_steps)
    plan, count = [], candidates
    for index, budget in enumerate(budgets):
        if index:
            count = max(1, count // eta)
        plan.append((budget, count))
    return plan


def _score(result: dict) -> float:
    value = result.get("value")
    return value if result.get("status") == "ok" and value is not None and math.isfinite(value) else math.inf


class HalvingState:
    """The recorded rungs: {"settings": ..., "rungs": [{"budget": b, "results": {hash: result}}]}."""

    def __init__(self, path: Path, settings: dict, load: bool = True):
        self.path = Path(path)
        self.settings = settings
        self.rungs: list[dict] = []
        if load and self.path.exists():
            with open(self.path, encoding="utf-8") as handle:
                stored = json.load(handle)
            if stored.get("settings") == settings:
                self.rungs = stored["rungs"]
            else:
                log.warning("halving: %s was written with other settings; starting afresh", self.path)

    def result(self, rung: int, key: str) -> dict | None:
        return self.rungs[rung]["results"].get(key) if rung < len(self.rungs) else None

    def record(self, rung: int, budget: int, key: str, result: dict) -> None:
        while len(self.rungs) <= rung:
            self.rungs.append({"budget": budget, "results": {}})
        self.rungs[rung]["results"][key] = result
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump({"settings": self.settings, "rungs": self.rungs}, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)


def successive_halving(keys: list[str], plan: list[tuple[int, int]], train_to: Callable[[str, int], dict],
                       state: HalvingState) -> list[list[str]]:
    """Run the rungs of `plan` over `keys` (best first); return the candidates trained in each rung.

    `train_to(key, budget)` trains one candidate up to `budget` cumulative steps and returns
    {"status": "ok" | "failed", "value": loss (lower is better) or None, ...}. Ties keep the
    incoming order (the training-free ranking), so the outcome is deterministic.
    """
    alive = list(keys)
    trained: list[list[str]] = []
    for rung, (budget, count) in enumerate(plan):
        if rung:
            previous = [(state.result(rung - 1, k), i) for i, k in enumerate(alive)]
            order = sorted(range(len(alive)), key=lambda i: (_score(previous[i][0]), i))
            alive = [alive[i] for i in order[:count]]
        for key in alive:
            if state.result(rung, key) is None:
                state.record(rung, budget, key, train_to(key, budget))
        trained.append(list(alive))
    return trained


class SuccessiveHalving(ShortlistStage):
    """Train the `top_k` best candidates with successive halving from `min_steps` to `max_steps` steps.

    Per-space training settings live under the space's name (`rnn:`, `bert:`), as for
    train=short. The final ranking: candidates by the deepest rung they reached, then by their
    evaluation loss there; candidates that failed (diverged, or an error) rank last in their
    rung; shortlisted architectures beyond `top_k` follow, untrained.
    """

    name = "halving"

    def __init__(
        self,
        top_k: int = 8,
        min_steps: int = 50,
        max_steps: int = 400,
        eta: int = 2,
        checkpoint_every: int | None = 50,
        log_every: int = 10,
        resume: bool = True,
        progress: bool | None = None,
        directory: str | None = None,
        **space_options: dict[str, Any],
    ):
        for field, value in (("top_k", top_k), ("min_steps", min_steps), ("max_steps", max_steps)):
            positive_int(value, f"train.{field}")
        if max_steps < min_steps:
            raise ConfigError("train.max_steps", f"must be >= train.min_steps ({min_steps}), got {max_steps}")
        integer(eta, "train.eta", 2)  # each rung keeps 1/eta of the previous one
        self.top_k, self.min_steps, self.max_steps, self.eta = top_k, min_steps, max_steps, eta
        self.checkpoint_every, self.log_every = checkpoint_every, max(1, int(log_every))
        self.resume, self.progress, self.directory = resume, progress, directory
        settings = "top_k, min_steps, max_steps, eta, checkpoint_every, log_every, resume, progress, directory"
        self.space_options = space_sections("halving", settings, space_options)

    def plan(self, candidates: int) -> list[tuple[int, int]]:
        return plan_rungs(candidates, self.min_steps, self.max_steps, self.eta)

    def run(self, space, shortlist, run_dir, device, seed, tracker):
        trainer_cls = space.trainer_class()
        options = self.space_options.get(space.name, {})
        root = Path(self.directory) if self.directory else Path(run_dir) / "train"
        chosen = [{**e, "search_rank": e["rank"]} for e in shortlist[: self.top_k]]
        rest = [{**e, "search_rank": e["rank"], "train_status": "not trained"} for e in shortlist[self.top_k :]]
        by_hash = {e["hash"]: e for e in chosen}
        plan = self.plan(len(chosen))
        total = sum(count * (budget - (plan[i - 1][0] if i else 0)) for i, (budget, count) in enumerate(plan))
        print("tfnas: successive halving of the top {}: rungs {} ({} training steps in all)".format(
            len(chosen), ", ".join(f"{c} x {b} steps" for b, c in plan), total), flush=True)
        settings = json.loads(json.dumps({"space": space.name, "seed": seed, "hashes": list(by_hash), "plan": plan,
                                          "options": options}, default=str))
        state = HalvingState(root / STATE_FILE, settings, load=self.resume)
        note = []

        def train_to(key: str, budget: int) -> dict:
            entry = by_hash[key]
            desc = f"halving {budget} steps {key[:10]}"
            try:
                trainer = trainer_cls(space, space.from_json(entry["arch"]), seed=seed, device=device, options=options)
                if not note:
                    print(f"tfnas: {trainer.data_note}", flush=True)
                    note.append(True)
                fingerprint = json.loads(json.dumps(
                    {"space": space.name, "hash": key, "seed": seed, "options": trainer.options}, default=str))
                result = train_candidate(
                    trainer, Budget(budget), root / key, fingerprint=fingerprint, checkpoint_every=self.checkpoint_every,
                    log_every=self.log_every, resume=self.resume, progress=self.progress, desc=desc,
                    on_log=lambda step, values, e=entry: tracker.log_training(e, step, values),
                )
            except (ConfigError, KeyboardInterrupt):
                raise
            except Exception as err:  # one candidate's failure must not lose the others' results
                log.warning("%s failed: %s: %s", desc, type(err).__name__, err)
                return {"status": "failed", "value": None, "steps": 0, "error": f"{type(err).__name__}: {err}"}
            target = getattr(trainer, "target", "eval_loss")
            return {"status": result.status, "value": result.values.get(target) if result.status == "ok" else None,
                    "steps": result.steps, "error": result.error, "diverged_at": result.diverged_at,
                    "values": result.values}

        rungs = successive_halving(list(by_hash), plan, train_to, state)
        final = []
        for depth in range(len(rungs) - 1, -1, -1):
            deeper = set(rungs[depth + 1]) if depth + 1 < len(rungs) else set()
            here = [k for k in rungs[depth] if k not in deeper]
            here.sort(key=lambda k: (_score(state.result(depth, k)), rungs[depth].index(k)))
            for key in here:
                result = state.result(depth, key)
                entry = by_hash[key]
                entry.update(result.get("values") or {})
                entry.update(
                    train_status=result["status"], train_steps=result["steps"], halving_rung=depth + 1,
                    train_error=result.get("error"), trained_result=result["value"],
                    rung_results=[state.result(r, key)["value"] for r in range(depth + 1)],
                )
                final.append(entry)
        for rank, entry in enumerate(final + rest, 1):
            entry["rank"] = rank
        write_shortlist(run_dir, final + rest)
        _collect_curves(root, chosen, Path(run_dir) / CURVES_FILE)
        columns = ["rank", "search_rank", "hash", "score", "halving_rung", "train_status", "trained_result", "train_steps"]
        print(format_table(final, [c for c in columns if any(c in e for e in final)]), flush=True)
        return final + rest
