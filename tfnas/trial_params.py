"""An architecture's readable fields as Optuna trial parameters, for every strategy.

Optuna's tools (optuna-dashboard, `plot_param_importances`, `plot_slice`, ...) read a trial's
`params` and their distributions. A space's `describe()` fields are what a reader understands
(`num_layers`, `hidden_size`, `num_linear`, ...), so every evaluation trial carries them as
params, whatever strategy proposed it. The distributions come from the space's
`describe_ranges()`, fixed for the space, because Optuna's importance evaluators only use a
parameter whose distribution is the same in every trial.

The store writes them onto each evaluation's trial (tfnas/store/_params.py).
Strategies that suggest through the trial (TPE, NSGA-II) keep their own encoding params beside
these; `ReadableParamsHidden` keeps the readable ones out of their sampler's model, so what
they propose is exactly what it was without them.
"""
from __future__ import annotations

import logging
from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler

log = logging.getLogger(__name__)

#: study user attribute: the readable params tfnas added beside a sampler's own (hidden from that sampler)
ADDED_PARAMS_ATTR = "tfnas_added_params"


def distribution(spec: Any) -> BaseDistribution:
    """A range from `describe_ranges()` as an Optuna distribution: a list of choices -> categorical,
    an (int, int) pair -> IntDistribution, a pair with a float -> FloatDistribution."""
    if isinstance(spec, BaseDistribution):
        return spec
    if isinstance(spec, list):
        return CategoricalDistribution(spec)
    low, high = spec
    if isinstance(low, int) and isinstance(high, int):
        return IntDistribution(low, high)
    return FloatDistribution(float(low), float(high))


def readable_params(space, arch) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
    """The `describe()` fields of `arch` that have a range, with their distributions.

    A value outside its declared range (a space whose mutation grew a cell beyond it) is left
    out rather than stored under a distribution that does not contain it.
    """
    ranges = getattr(space, "describe_ranges", lambda: {})()
    if not ranges:
        return {}, {}
    params, dists = {}, {}
    for name, value in space.describe(arch).items():
        if name not in ranges:
            continue
        dist = distribution(ranges[name])
        value = _plain(value)
        if not inside(dist, value):
            log.debug("readable param %s=%r is outside its range %s; not stored as a param", name, value, dist)
            continue
        params[name], dists[name] = value, dist
    return params, dists


def inside(dist: BaseDistribution, value: Any) -> bool:
    """Whether `dist` holds `value`: one of a categorical's choices; a number within the bounds and on the step
    (the test Optuna's distributions make privately, written with their public attributes)."""
    try:
        internal = dist.to_internal_repr(value)  # a categorical's index: raises for a value not among the choices
    except (ValueError, TypeError):
        return False
    if isinstance(dist, CategoricalDistribution):
        return True
    if not dist.low <= internal <= dist.high:
        return False
    if isinstance(dist, IntDistribution):
        return (internal - dist.low) % dist.step == 0
    return dist.step is None or abs((internal - dist.low) / dist.step - round((internal - dist.low) / dist.step)) < 1e-8


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (Optuna stores JSON)."""
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


class ReadableParamsHidden(BaseSampler):
    """Wraps a model-based sampler so its relative search space never includes the params tfnas
    added (listed in the study's `tfnas_added_params`): the sampler never suggests them, and
    modelling them jointly with its encoding would change what it proposes."""

    def __init__(self, inner: BaseSampler):
        self.inner = inner

    def infer_relative_search_space(self, study, trial):
        space = self.inner.infer_relative_search_space(study, trial)
        hidden = set(study.user_attrs.get(ADDED_PARAMS_ATTR, ()))
        return {k: v for k, v in space.items() if k not in hidden}

    def sample_relative(self, study, trial, search_space):
        return self.inner.sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self.inner.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial):
        self.inner.before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        self.inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self.inner.reseed_rng()


def hide_readable(sampler: BaseSampler | None) -> BaseSampler | None:
    """`sampler` wrapped in ReadableParamsHidden (None stays None: the study's default, which suggests nothing here)."""
    return None if sampler is None or isinstance(sampler, ReadableParamsHidden) else ReadableParamsHidden(sampler)
