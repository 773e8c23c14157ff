"""train=halving | hyperband | multifidelity: the ranked candidates through rungs of short training on Optuna's pruners.

Each entrant is a trial of the stage's trained study (`<study>-trained-<stage>`): at each rung it
reports its evaluation loss and goes on while the pruner (`optuna.pruners.SuccessiveHalvingPruner`,
`HyperbandPruner`; the `train.pruner` config node holds their own arguments) lets it. Entrants go in
the predictor's order, one after another (the semantics: tfnas/training/rungs.py). Rungs are
`min_resource`, `min_resource x reduction_factor`, ... up to `max_steps` cumulative steps; a rung
continues from the candidate's checkpoint, so no step is trained twice.

With `budget` (in full trainings of `full_steps` steps) the stage sizes itself to it
(tfnas/training/plan.py) and never spends more; the `finals` best are then trained in full: looked up
in the space's tabular benchmark when it lists them (`full=auto` or `benchmark`), or trained on to
`full_steps` (`full=train`). Without a budget, the final ranking is by the deepest rung reached and
the loss there.

kill -9 and a restart keep every finished rung: the trained study holds them (intermediate values),
the checkpoints hold the weights, and the decisions are replayed from them (no rung is trained twice).
"""
from __future__ import annotations

import functools
import logging
import math
from pathlib import Path
from typing import Any

from tfnas.errors import ConfigError
from tfnas.training.base import ShortlistStage, check_trainer_data, space_sections
from tfnas.training.curves import TrainerCurves
from tfnas.training.plan import Plan, fit_halving, fit_screening, geometric, ladder
from tfnas.training.rungs import Replayed, run_schedule
from tfnas.training.short import CURVES_FILE, _collect_curves
from tfnas.training.table import format_table, write_shortlist
from tfnas.validate import positive_int

log = logging.getLogger("tfnas")

FULL_MODES = ("auto", "benchmark", "train", "none")


class PrunedTraining(ShortlistStage):
    """Base of the pruned stages; `fit` names the sizing rule used with a budget (plan.py)."""

    name = "pruned"
    fit = "halving"
    resource_args = ("min_resource",)

    def __init__(self, pruner=None, top_k: int | None = 8, max_steps: int = 400, budget: float | None = None,
                 full_steps: int | None = None, finals: int | None = None, full: str = "auto", finals_share: float = 0.5,
                 rung_divisor: float = 4.0,
                 checkpoint_every: int | None = 50, log_every: int = 10, resume: bool = True, progress: bool | None = None,
                 directory: str | None = None, **space_options: dict[str, Any]):
        settings = ("pruner, top_k, max_steps, budget, full_steps, finals, full, finals_share, rung_divisor, checkpoint_every, "
                    "log_every, resume, progress, directory")
        self.space_options = space_sections(self.name, settings, space_options)
        self.pruner = pruner if pruner is not None else functools.partial(_default_pruner(self.name))
        keywords = getattr(self.pruner, "keywords", {})
        self.min_steps = positive_int(keywords.get("min_resource", 50), "train.pruner.min_resource")
        self.eta = keywords.get("reduction_factor", 2 if self.name == "halving" else 3)
        if isinstance(self.eta, bool) or not isinstance(self.eta, int) or self.eta < 2:
            raise ConfigError("train.pruner.reduction_factor", f"must be an integer >= 2, got {self.eta!r}")
        self.max_steps = positive_int(max_steps, "train.max_steps")
        self.top_k = None if top_k is None else positive_int(top_k, "train.top_k")
        self.compute_budget = _budget(budget, full_steps)
        if self.compute_budget is None and self.max_steps < self.min_steps:  # with a budget the plan chooses the rungs
            raise ConfigError("train.max_steps", f"must be >= train.pruner.min_resource ({self.min_steps}), got {max_steps}")
        self.full_steps = None if full_steps is None else positive_int(full_steps, "train.full_steps")
        self.finals = finals if finals is None else _count(finals, "train.finals")
        if full not in FULL_MODES:
            raise ConfigError("train.full", f"must be one of {', '.join(FULL_MODES)}, got {full!r}")
        self.full = full
        if not 0 < finals_share <= 1 or not rung_divisor >= 1:
            raise ConfigError("train.finals_share" if not 0 < finals_share <= 1 else "train.rung_divisor",
                              f"finals_share must be in (0, 1] and rung_divisor >= 1, got {finals_share}, {rung_divisor}")
        self.finals_share, self.rung_divisor = float(finals_share), float(rung_divisor)
        self.checkpoint_every, self.log_every = checkpoint_every, max(1, int(log_every))
        self.resume, self.progress, self.directory = resume, progress, directory

    # -- sizing -------------------------------------------------------------------------------
    def plan(self, available: list[int] | None = None) -> Plan:
        """The rungs, finalists and entrants: the config's own, or fitted to the budget (plan.py)."""
        key = tuple(available or ())
        cache = self.__dict__.setdefault("_plans", {})
        if key not in cache:
            cache[key] = self._plan(available)
        return cache[key]

    def _plan(self, available: list[int] | None) -> Plan:
        if self.compute_budget is None:
            return Plan(tuple(geometric(self.min_steps, self.max_steps, self.eta)), self.finals or 0, self.top_k)
        steps = available or [s for s in geometric(self.min_steps, self.full_steps, self.eta) if s < self.full_steps]
        if self.fit == "screening":
            plan = fit_screening(steps, self.full_steps, self.compute_budget, self.eta, self.finals_share, self.rung_divisor)
        else:
            plan = fit_halving(steps, self.full_steps, self.compute_budget, self.eta)
            if self.fit == "hyperband":  # Hyperband brackets over the same ladder; entrants until the budget runs out
                plan = Plan(tuple(ladder(steps, self.eta)[: max(len(plan.rungs), 1)]), 1, None)
        return Plan(plan.rungs, plan.finals if self.finals is None else self.finals, plan.entrants)

    def make_pruner(self, plan: Plan):
        """A fresh pruner whose resources are the plan's first (and last) rung."""
        overrides = {"min_resource": plan.rungs[0]}
        if "max_resource" in self.resource_args:
            overrides["max_resource"] = plan.rungs[-1]
        return self.pruner(**overrides) if callable(self.pruner) else self.pruner

    def schedule(self, order: list[str], source, available: list[int] | None = None, record=None):
        """The stage's decisions for candidates in `order` (best first) with losses from `source`: what `run`
        trains for real and what `tfnas compare` replays on recorded curves (`available`: their steps)."""
        plan = self.plan(available)
        keys = list(order) if plan.entrants is None else list(order)[: plan.entrants]
        return run_schedule(keys, plan.rungs, plan.finals, self.make_pruner(plan), source, full_steps=self.full_steps,
                            budget=self.compute_budget, fill=self.fit == "screening", record=record, name=f"tfnas-{self.name}")

    # -- the stage ----------------------------------------------------------------------------
    def check(self, space) -> None:
        check_trainer_data(space, self.space_options.get(space.name, {}))

    def run(self, space, shortlist, run_dir, device, seed, tracker, context=None):
        from tfnas.training.finals import FinalsRecorder, RungRecorder, assemble, rung_agreement, train_finals

        options = self.space_options.get(space.name, {})
        root = Path(self.directory) if self.directory else Path(run_dir) / "train"
        plan = self.plan()
        entries = [{**e, "search_rank": e.get("rank")} for e in shortlist]
        pool = entries if plan.entrants is None else entries[: plan.entrants]
        by_hash = {e["hash"]: e for e in pool}
        source = TrainerCurves(space, by_hash, options, root, device, seed, tracker, self.checkpoint_every,
                               self.log_every, self.resume, self.progress)
        recorder = RungRecorder(context, self.name, by_hash) if context is not None and context.trained is not None else None
        recorded = recorder.recorded if recorder is not None else {}
        print(f"tfnas: {self.name}: {len(pool) if plan.entrants else 'up to ' + str(len(pool))} entrant(s) in the predictor's "
              f"order, rungs {', '.join(map(str, plan.rungs))} steps (eta {self.eta})"
              + (f", budget {self.compute_budget:g} x {self.full_steps} steps, {plan.finals} trained in full"
                 if self.compute_budget is not None else ""), flush=True)
        schedule = self.schedule(list(by_hash), Replayed(recorded, source), record=recorder.notify if recorder is not None else None)
        agreement = rung_agreement(schedule)
        if agreement:
            print(f"tfnas: {self.name}: {agreement}", flush=True)
        finals = train_finals(self, space, schedule, by_hash, source, tracker, FinalsRecorder(context, self.name))
        final = assemble(entries, schedule, finals, source, context)
        write_shortlist(run_dir, final)
        _collect_curves(root, [by_hash[k] for k in schedule.outcomes], Path(run_dir) / CURVES_FILE)
        columns = ["rank", "search_rank", "hash", "score", "rung", "train_status", "trained_result", "full_result", "train_steps"]
        shown = [e for e in final if e.get("train_status") not in (None, "not trained")]
        print(format_table(shown, [c for c in columns if any(c in e for e in shown)]), flush=True)
        return final


class SuccessiveHalvingTraining(PrunedTraining):
    """train=halving: optuna.pruners.SuccessiveHalvingPruner (asynchronous successive halving)."""

    name = "halving"
    fit = "halving"


class HyperbandTraining(PrunedTraining):
    """train=hyperband: optuna.pruners.HyperbandPruner (Li et al., JMLR 2018): each trial is assigned to one of
    its brackets (successive halving with a different first rung), so aggressive and patient pruning share the work."""

    name = "hyperband"
    fit = "hyperband"
    resource_args = ("min_resource", "max_resource")


class MultiFidelityTraining(PrunedTraining):
    """train=multifidelity: the predictor's best candidates screened at cheap rungs, sized to a compute budget, the
    best trained in full (the recommended pipeline; docs/search-quality.md)."""

    name = "multifidelity"
    fit = "screening"


def _default_pruner(name: str):
    import optuna

    return optuna.pruners.HyperbandPruner if name == "hyperband" else optuna.pruners.SuccessiveHalvingPruner


def _budget(budget, full_steps) -> float | None:
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not math.isfinite(budget) or budget < 1:
        raise ConfigError("train.budget", f"must be a number of full trainings >= 1 (e.g. 2 or 1.5) or null, got {budget!r}")
    if full_steps is None:
        raise ConfigError("train.full_steps", "a compute budget needs the steps of one full training (train.full_steps=N; "
                          "the space's config gives its benchmark's)")
    return float(budget)


def _count(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(field, f"must be a non-negative integer or null (sized to the budget), got {value!r}")
    return value
