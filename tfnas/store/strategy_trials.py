"""The writes a strategy that suggests through Optuna trials (TPE, NSGA-II) needs, kept in the store.

A strategy only has the study it was bound to (its own in-memory one when the search has no
store), so these take the study.
"""
from __future__ import annotations

from typing import Any

from optuna.trial import TrialState


def reject(study, trial, reason: str) -> None:
    """Fail a trial whose suggestions do not decode into a valid architecture (kind "rejected")."""
    trial.set_user_attr("kind", "rejected")
    trial.set_user_attr("reason", reason)
    study.tell(trial, state=TrialState.FAIL)


def enqueue(study, params: dict[str, Any]) -> None:
    """Make `params` the next trial the study gives out (Optuna's enqueue_trial)."""
    study.enqueue_trial(params, skip_if_exists=False)
