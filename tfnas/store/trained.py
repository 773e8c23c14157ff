"""Trained results of a search in its Optuna storage: the sibling study `<study>-trained-<stage>`.

Optuna never changes a finished trial (its cached storage assumes they are fixed; see
optuna/optuna#1986 and #3251), so a result that arrives after the search cannot be added to the
evaluation's own trial. Each post-search stage instead gets a sibling study in the same storage,
`<study>-trained-<stage>` (e.g. `tfnas-trained-short`): one trial per trained candidate whose
value is the trained result in its own direction, whose params are the architecture's readable
fields (as in the search study), whose user attributes are every trained value plus the hash,
the training-free score and the number of the evaluation trial in the search study, and whose
intermediate values are the training curve (for the pruned stages: the evaluation loss at each
rung). A candidate whose training failed is a FAIL trial with the reason in `fail_reason`; one that
a pruner stopped is PRUNED. optuna-dashboard then shows the trained results, their learning curves
and which fields matter for them.

A trial is asked when its candidate starts training, so the study records every finished rung as it
happens: a run killed with kill -9 leaves that candidate's trial RUNNING with the rungs it finished.
The next start reads those values back (`recorded`), fails the abandoned trial (`close_interrupted`)
and continues the candidate in a new trial that reports them again.

Only Optuna's public API: `create_study(storage=<the search's storage object>)`, `enqueue_trial` +
`ask` (the readable params go in through the enqueued-parameter path, so no sampler draws them),
`report`, `tell` and `set_user_attr`.
"""
from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from tfnas.results import finite_curve_rows
from tfnas.tracking.base import Tracker
from tfnas.trial_params import readable_params

log = logging.getLogger("tfnas")

#: user attribute: "running" while a candidate trains, then how it ended (ok, pruned, failed, ...)
STATUS_ATTR = "tfnas_status"
RUNNING = "running"


def trained_study_name(study_name: str, stage: str) -> str:
    return f"{study_name}-trained-{stage}"


class TrainedStudy:
    """The sibling study of one post-search stage: begin a candidate's trial, report its rungs, end it."""

    def __init__(self, store, space, stage: str, target: str, higher_is_better: bool):
        self.store, self.space, self.target = store, space, target
        self.study = optuna.create_study(
            storage=store.storage, study_name=trained_study_name(store.study.study_name, stage),
            direction="maximize" if higher_is_better else "minimize", load_if_exists=True,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if self.study.metric_names != [target]:
                self.study.set_metric_names([target])
        self.study.set_user_attr("search_study", store.study.study_name)
        self._evaluations: dict[str, int] | None = None

    # -- reading back ---------------------------------------------------------------------------
    def trials(self) -> list:
        return self.study.get_trials(deepcopy=False)

    def finished(self) -> dict[str, Any]:
        """hash -> the last trial of that candidate that ended (ok, pruned or failed), in trial order."""
        done = {}
        for trial in self.trials():
            if trial.state.is_finished() and trial.user_attrs.get(STATUS_ATTR, "ok") != RUNNING and "hash" in trial.user_attrs:
                done[trial.user_attrs["hash"]] = trial
        return done

    def recorded(self) -> dict[str, dict[int, float]]:
        """hash -> {step: value} reported by any of its trials (an interrupted one included): the finished rungs."""
        curves: dict[str, dict[int, float]] = {}
        for trial in self.trials():
            key = trial.user_attrs.get("hash")
            if key is not None:
                curves.setdefault(key, {}).update(trial.intermediate_values)
        return curves

    def close_interrupted(self) -> list[str]:
        """Fail the trials a killed run left RUNNING (or enqueued and never asked); returns their hashes.

        Called once as a stage starts: only one stage writes its study at a time, so whatever is still
        running then belongs to a run that is gone."""
        closed = []
        while any(t.state == TrialState.WAITING for t in self.trials()):
            self.study.tell(self.study.ask(), state=TrialState.FAIL)  # ask() pops the waiting trial first
        for trial in self.trials():
            if trial.state == TrialState.RUNNING:
                self.study.tell(trial.number, state=TrialState.FAIL)
                closed.append(trial.user_attrs.get("hash"))
        return [key for key in closed if key is not None]

    # -- writing ------------------------------------------------------------------------------
    def begin(self, entry: dict[str, Any]):
        """A RUNNING trial for `entry` (a shortlist entry: hash, score, arch, ...), its readable params set."""
        params, dists = readable_params(self.space, self.space.from_json(entry["arch"])) if "arch" in entry else ({}, {})
        attrs = {**self._attrs(entry), STATUS_ATTR: RUNNING}
        self.study.enqueue_trial(params, user_attrs=attrs)
        return self.study.ask(fixed_distributions=dists)

    @staticmethod
    def report(trial, value: float, step: int) -> None:
        trial.report(float(value), int(step))

    def end(self, trial, entry: dict[str, Any], status: str, error: str | None = None) -> None:
        """Finish `trial` with `entry[target]` as its value: COMPLETE if finite, PRUNED if `status` is "pruned"
        (or "stopped" by a compute budget), otherwise FAIL with the reason in `fail_reason`."""
        attrs = self._attrs(entry)
        value = entry.get(self.target)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if status in ("pruned", "stopped"):  # stopped: the stage's compute budget ran out before its next rung
            state = TrialState.PRUNED
        elif ok and status == "ok":
            state = TrialState.COMPLETE
        else:
            state = TrialState.FAIL
            attrs["fail_reason"] = f"{status}: {error or entry.get('train_error') or f'no finite {self.target}'}"
        for key, item in {**attrs, STATUS_ATTR: status}.items():
            trial.set_user_attr(key, item)
        self.study.tell(trial, float(value) if state == TrialState.COMPLETE else None, state=state)

    def record(self, entry: dict[str, Any], curve: Path | None = None) -> None:
        """One trial for a candidate whose result is known at once (train=short, train=benchmark); a stage run
        again (resumed) that reports the same result again adds nothing."""
        same = ("hash", self.target, "train_steps", "train_status")
        attrs = self._attrs(entry)
        for old in self.trials():
            if old.state.is_finished() and all(old.user_attrs.get(k) == attrs.get(k) for k in same):
                return
        trial = self.begin(entry)
        steps = _curve(curve)
        if steps:
            trial.set_user_attr("intermediate_values", steps[0])
            for step, value in sorted(steps[1].items()):
                trial.report(value, step)
        status = entry.get("train_status") or ("ok" if entry.get("in_benchmark", True) else "not in benchmark")
        self.end(trial, entry, status if status != "not trained" else "ok")

    def _attrs(self, entry: dict[str, Any]) -> dict[str, Any]:
        attrs = {k: _json(v) for k, v in entry.items() if k != "arch"}
        attrs["evaluation_trial"] = self._evaluation_number(entry.get("hash"))
        return attrs

    def _evaluation_number(self, key: str | None) -> int | None:
        if self._evaluations is None:
            self._evaluations = {}
            for trial in self.store.trials():
                if self.store.is_evaluation(trial):
                    self._evaluations.setdefault(trial.user_attrs.get("hash"), trial.number)
        return self._evaluations.get(key)


class TrainedResults(Tracker):
    """The tracker hook `log_trained` -> one trial in the stage's sibling study of the search's storage."""

    def __init__(self, store, space):
        self.store, self.space = store, space
        self._studies: dict[tuple, TrainedStudy] = {}

    def study(self, stage: str, target: str, higher_is_better: bool) -> TrainedStudy:
        key = (stage, target, higher_is_better)
        if key not in self._studies:
            self._studies[key] = TrainedStudy(self.store, self.space, stage, target, higher_is_better)
        return self._studies[key]

    def log_trained(self, entry: dict[str, Any], stage: str, target: str, higher_is_better: bool,
                    curve: Path | None = None) -> None:
        try:
            self.study(stage, target, higher_is_better).record(entry, curve)
        except Exception as err:  # noqa: BLE001 - the stage's own files hold the result; never lose it over this
            log.warning("could not record the trained result of %s in the study: %s", entry.get("hash"), err)


def _curve(path: Path | None) -> tuple[str, dict[int, float]] | None:
    """The most often logged series of a curve.csv (the training loss) as {step: value}."""
    if path is None or not Path(path).exists():
        return None
    series: dict[str, dict[int, float]] = {}
    for row in finite_curve_rows(path):
        series.setdefault(row["name"], {})[row["step"]] = row["value"]
    if not series:
        return None
    name = max(series, key=lambda n: len(series[n]))
    return name, series[name]


def _json(value: Any) -> Any:
    """Optuna stores user attributes as JSON: numpy scalars as numbers, non-finite floats as text."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes, list, dict)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    return value
