"""Trained results of the shortlist in the Optuna storage, written as each one arrives.

Optuna never changes a finished trial (its cached storage assumes they are fixed; see
optuna/optuna#1986 and #3251), so a result that arrives after the search cannot be added to the
evaluation's own trial. Each post-search stage instead gets a sibling study in the same storage,
`<study>-trained-<stage>` (e.g. `tfnas-trained-short`): one trial per trained candidate whose
value is the trained result in its own direction, whose params are the architecture's readable
fields (as in the search study), whose user attributes are every trained value plus the hash,
the training-free score and the number of the evaluation trial in the search study, and whose
intermediate values are the training curve. optuna-dashboard then shows the trained results,
their learning curves and which fields matter for them; a candidate whose training failed is a
FAIL trial with the reason in `fail_reason`.
"""
from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from tfnas.tracking.base import Tracker
from tfnas.results import finite_curve_rows
from tfnas.trial_params import readable_params

log = logging.getLogger("tfnas")


def trained_study_name(study_name: str, stage: str) -> str:
    return f"{study_name}-trained-{stage}"


class TrainedResults(Tracker):
    """The tracker hook `log_trained` -> one trial in the stage's sibling study of the search's storage."""

    def __init__(self, store, space):
        self.store, self.space = store, space
        self._studies: dict[str, Any] = {}

    def _study(self, stage: str, target: str, higher_is_better: bool):
        if stage not in self._studies:
            study = optuna.create_study(
                storage=self.store.study._storage, study_name=trained_study_name(self.store.study.study_name, stage),
                direction="maximize" if higher_is_better else "minimize", load_if_exists=True,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                if study.metric_names != [target]:
                    study.set_metric_names([target])
            study.set_user_attr("search_study", self.store.study.study_name)
            self._studies[stage] = study
        return self._studies[stage]

    def log_trained(self, entry: dict[str, Any], stage: str, target: str, higher_is_better: bool,
                    curve: Path | None = None) -> None:
        try:
            self._write(entry, stage, target, higher_is_better, curve)
        except Exception as err:  # noqa: BLE001 - the stage's own files hold the result; never lose it over this
            log.warning("could not record the trained result of %s in the study: %s", entry.get("hash"), err)

    def _write(self, entry, stage, target, higher_is_better, curve) -> None:
        study = self._study(stage, target, higher_is_better)
        attrs = {k: _json(v) for k, v in entry.items() if k != "arch"}
        attrs["evaluation_trial"] = self._evaluation_number(entry.get("hash"))
        same = ("hash", target, "train_steps", "train_status")
        for old in study.get_trials(deepcopy=False):  # a stage run again (resumed) re-reports finished candidates
            if all(old.user_attrs.get(k) == attrs.get(k) for k in same):
                return
        value = entry.get(target)
        ok = isinstance(value, (int, float)) and math.isfinite(value)
        if not ok:
            status = entry.get("train_status") or ("not in benchmark" if entry.get("in_benchmark") is False else "no result")
            attrs["fail_reason"] = f"{status}: {entry.get('train_error') or f'no finite {target}'}"
        params, dists = readable_params(self.space, self.space.from_json(entry["arch"])) if "arch" in entry else ({}, {})
        steps = _curve(curve)
        if steps:
            attrs["intermediate_values"] = steps[0]
        trial = optuna.trial.create_trial(
            state=TrialState.COMPLETE if ok else TrialState.FAIL, value=float(value) if ok else None,
            params=params, distributions=dists, user_attrs=attrs,
            intermediate_values=steps[1] if steps else None,
        )
        study.add_trial(trial)

    def _evaluation_number(self, key: str | None) -> int | None:
        numbers = [t.number for t in self.store.trials() if t.user_attrs.get("hash") == key and self.store.is_evaluation(t)]
        return min(numbers) if numbers else None


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
    """Optuna stores user attributes as JSON: non-finite floats as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
