"""Write an architecture's readable fields onto its trial as Optuna params (see tfnas.trial_params)."""
from __future__ import annotations

from typing import Any

from optuna.distributions import BaseDistribution

from tfnas.store._optuna_adapter import trial_id_of


def write_params(storage, trial, params: dict[str, Any], dists: dict[str, BaseDistribution]) -> list[str]:
    """Write `params` onto a running trial through the storage (the trial's own `suggest_*` would
    ask its sampler). A name the trial already holds (TPE's `hidden_size`) keeps its value.
    Returns the names written."""
    held = trial.params
    added = []
    for name, value in params.items():
        if name in held:
            continue
        storage.set_trial_param(trial_id_of(trial), name, dists[name].to_internal_repr(value), dists[name])
        added.append(name)
    return added
