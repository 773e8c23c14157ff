"""Extending the vocabulary costs what the contract promises: a new need kind is one declaration plus one method in the
probe of each space that serves it, and a new metric over existing needs is its own class (file) and nothing else.
Both are added here, inside the test, and run through both spaces' real probes by the Scorer a search uses."""
from __future__ import annotations

from typing import Protocol

import numpy as np
import pytest

from tfnas.errors import ConfigError
from tfnas.metrics import Scorer
from tfnas.metrics.base import Metric
from tfnas.probe import NEEDS, PARAMS, Argument, NeedKind, ParamsProbe, declare
from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace
from tfnas.search_spaces.nas_bench_bert.probe import BertProbe
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe


class WeightPowerProbe(Protocol):
    def weight_power(self, power: int) -> float:
        """Sum over every parameter entry of |w|^power."""


@pytest.fixture
def weight_power():
    """The new kind: one declaration (with its argument's grammar), taken out of the vocabulary after the test."""
    kind = declare(NeedKind("weight_power", WeightPowerProbe, "weight_power:P, sum of |w|^P over the parameters",
                            Argument("P", int, "metric.power", "an integer power in 1..4", low=1, high=4)))
    yield kind
    del NEEDS[kind.name]


class WeightPower(Metric):
    """The toy metric that reads the new kind."""

    name = "weight_power"

    def __init__(self, kind: NeedKind, power: int = 2):
        self.kind, self.power = kind, power

    @property
    def key(self) -> str:
        return f"{self.name}_{self.power}"

    def needs(self) -> set[str]:
        return {self.kind.need(self.power)}

    def compute(self, probe: WeightPowerProbe) -> float:
        return probe.weight_power(self.power)


def served_weight_power(self, power: int) -> float:
    """The one method each space's probe gains (both probes keep their model as `self.model`)."""
    self._require(NEEDS["weight_power"].need(power))
    unique = {id(p): p for p in self.model.parameters()}.values()
    return float(sum(p.detach().double().abs().pow(power).sum() for p in unique))


def spaces(tiny_rnn_space):
    return [tiny_rnn_space, NasBenchBertSpace(batch_size=2, seq_len=8)]


def by_hand(space, arch, power: int) -> float:
    model = space.build_model(arch, seed=0)
    unique = {id(p): p for p in model.parameters()}.values()
    return float(sum(p.detach().double().abs().pow(power).sum() for p in unique))


def test_a_new_need_is_one_declaration_and_one_method_per_space(tiny_rnn_space, weight_power, monkeypatch):
    metric = WeightPower(weight_power, power=3)
    for space in spaces(tiny_rnn_space):  # declared but served by no probe yet: refused before anything is scored
        assert not metric.applies_to(space)
        with pytest.raises(ConfigError, match="needs weight_power:3, which that space's probe does not serve"):
            Scorer(space, [metric])
    for probe_class in (RNNProbe, BertProbe):
        monkeypatch.setattr(probe_class, "weight_power", served_weight_power, raising=False)
    for space in spaces(tiny_rnn_space):
        assert "weight_power" in space.provides()
        arch = space.sample(np.random.default_rng(1))
        scores = Scorer(space, [metric, WeightPower(weight_power, power=1)])(arch).scores  # two arguments, one probe
        assert scores["weight_power_3"] == pytest.approx(by_hand(space, arch, 3), rel=1e-12)
        assert scores["weight_power_1"] == pytest.approx(by_hand(space, arch, 1), rel=1e-12)
        with pytest.raises(ConfigError, match="metric.power: must be an integer power in 1..4, got 5"):
            Scorer(space, [WeightPower(weight_power, power=5)])


class ParamsInMillions(Metric):
    """A new metric over an existing need: parameters (need `params`) per million, nothing else added anywhere."""

    name = "params_millions"

    def needs(self) -> set[str]:
        return {PARAMS.need()}

    def compute(self, probe: ParamsProbe) -> float:
        return probe.num_parameters() / 1e6


def test_a_new_metric_over_existing_needs_needs_nothing_else(tiny_rnn_space):
    for space in spaces(tiny_rnn_space):
        arch = space.sample(np.random.default_rng(2))
        model = space.build_model(arch, seed=0)
        expected = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values()) / 1e6
        assert Scorer(space, [ParamsInMillions()])(arch).scores["params_millions"] == pytest.approx(expected, rel=1e-12)
