"""The interface every search space implements, so strategies and metrics never special-case one."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Generic, Iterable, Sequence, TypeVar

import numpy as np
import torch
from torch import nn

from tfnas.registry import Registry

Arch = TypeVar("Arch")

SPACES: Registry[type["SearchSpace"]] = Registry("space", ("tfnas.search_spaces",), entry_point_group="tfnas.spaces",
                                                config_group="space")


class SearchSpace(ABC, Generic[Arch]):
    """A family of architectures plus the model and minibatch that training-free metrics score.

    `name` is what metrics declare applicability against (for example "rnn" or "bert").
    """

    name: str = ""

    # -- architectures -------------------------------------------------------------
    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Arch:
        """Draw one architecture from the space's sampling distribution."""

    @abstractmethod
    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        """A valid architecture one edit away from `arch`, with a different hash."""

    @abstractmethod
    def validate(self, arch: Arch) -> None:
        """Raise InvalidArchitecture (naming the part and the rule) if `arch` is not in the space."""

    @abstractmethod
    def hash(self, arch: Arch) -> str:
        """Canonical hash: equal for architectures that are the same network."""

    @abstractmethod
    def to_json(self, arch: Arch) -> Any:
        """A JSON-serialisable description (the benchmark's own format)."""

    @abstractmethod
    def from_json(self, data: Any) -> Arch:
        """Parse (and validate) the description written by `to_json`."""

    def describe(self, arch: Arch) -> dict[str, Any]:
        """A few flat, human-readable fields of an architecture (for tables and pruning rules)."""
        return {}

    def describe_ranges(self) -> dict[str, Any]:
        """The range of each `describe()` field, fixed for the space: a list of choices, or a (low, high)
        pair. They become the Optuna distributions of every trial's readable params (tfnas.trial_params);
        a field without a range is not stored as a param. Default: none."""
        return {}

    def features(self, arch: Arch) -> np.ndarray:
        """A numeric vector used to measure how close two architectures are (benchmark-pool mapping).
        Default: the numeric `describe()` fields, an absent field (None) as 0 so every architecture
        gets a vector of the same length; spaces may return a richer encoding."""
        values = [0.0 if v is None else v for v in self.describe(arch).values() if not isinstance(v, str)]
        return np.asarray(values, dtype=float)

    # -- encoding for model-based strategies (Optuna) -------------------------------
    @abstractmethod
    def suggest(self, trial) -> Arch:
        """Build an architecture from an Optuna trial's suggestions (raise InvalidArchitecture to reject)."""

    # -- models and data -------------------------------------------------------------
    @abstractmethod
    def build_model(self, arch: Arch, seed: int | None = None, device: str | torch.device = "cpu") -> nn.Module:
        """The untrained network for `arch`; with a seed, the same seed gives the same weights."""

    def model_builder(self, seed: int, device: str | torch.device = "cpu") -> Callable[[Arch], nn.Module]:
        """A function from an architecture to its untrained model, equal to `build_model(arch, seed, device)`.

        A scorer calls this once and the function once per architecture: a space builds the parts every
        architecture shares (a word embedding, a tied decoder) here, once, on `device`, and per call only
        the rest. Default: `build_model` each time."""
        return lambda arch: self.build_model(arch, seed=seed, device=device)

    @abstractmethod
    def metric_batch(self, device: str | torch.device = "cpu") -> Any:
        """The minibatch training-free metrics score models on (fixed for the space's config)."""

    def lm_classes(self, batch: Any) -> Any:
        """The class of each position of the metric batch for the language-model proxies (the token the
        space's LM predicts there; -1: none), which a metric may check before scoring (epe_nas needs
        repeated classes); None for a space without a language model."""
        return None

    @abstractmethod
    def probe(self, model: nn.Module, batch: Any, needs: Iterable[str]) -> Any:
        """Run the passes the metrics need (`needs`: the union of their requirements) and return
        an object the metrics read. One forward (and backward, if needed) serves all of them."""

    def packs(self, needs: Iterable[str]) -> bool:
        """Whether `probe_many` probes several models in one pass for `needs` (a pack); default: no."""
        return False

    def probe_many(self, models: Sequence[nn.Module], batch: Any, needs: Iterable[str]) -> list:
        """One probe per model, each serving what `probe(model, batch, needs)` serves with the same values
        (to float rounding). A space that `packs` runs the passes of all the models at once; default: one
        probe per model."""
        return [self.probe(model, batch, needs) for model in models]

    # -- what the space brings besides models -------------------------------------------
    def trainer_class(self):
        """The `tfnas.training.Trainer` subclass that trains this space's architectures briefly, or None."""
        return None

    def export(self, arch: Arch, out, *, checkpoint=None, seed: int = 0, options: dict | None = None) -> dict:
        """Write `arch` as a reusable model folder at `out` (`tfnas export`): weights from a short-training
        `checkpoint` folder (trained with `options`) or the seeded initialisation; return what was written."""
        from tfnas.errors import ConfigError

        raise ConfigError("space", f"space {self.name!r} cannot export models")

    def provides(self) -> frozenset[str]:
        """The need kinds this space's probe serves (its probe class's `tfnas.probe.Probe.provides()`);
        a metric applies when its needs are among them."""
        return frozenset()

    def check_needs(self, needs: Iterable[str]) -> None:
        """Refuse (ConfigError) needs this space cannot serve, arguments included (the vocabulary's grammar,
        and what only the space knows, such as a layer it lacks); called before a search writes anything."""
        from tfnas.probe import check_needs

        check_needs(needs, self.provides(), self.name)

    def members(self) -> list | None:
        """Every architecture the space holds when it is a finite pool (benchmark mode), else None."""
        return None

    def note_evaluated(self, key: str) -> None:
        """Hear that the architecture with hash `key` is scored (a pool then proposes others first)."""

    # -- labelled architectures --------------------------------------------------------
    def degenerate(self, arch: Arch) -> str | None:
        """Why `arch` cannot learn the task whatever its training (e.g. a layer output that never sees the current
        input), or None. Candidates with a reason are set aside from the shortlist and the training stages,
        whatever the metric (tfnas/candidates.py). Default: none are."""
        return None

    def benchmark(self):
        """The space's tabular benchmark (a tfnas.benchmarks.TabularBenchmark), or None if it has none."""
        return None

    def qualitative_rule(self) -> str:
        """The pruning rule the benchmark's data supports (the paper's qualitative analysis, run over
        describe() fields of the labelled architectures; `strategy.rule=auto` uses it)."""
        from tfnas.analysis import pruning_rule
        from tfnas.errors import ConfigError

        bench = self.benchmark()
        if bench is None:
            raise ConfigError("strategy.rule", f"rule=auto needs a tabular benchmark, and space {self.name!r} has none")
        rows = []
        for arch_id, arch in bench.pool():
            result = bench.query_id(arch_id)
            if result is not None:
                rows.append({**self.describe(arch), bench.target: result[bench.target]})
        rule = pruning_rule(rows, target=bench.target, higher_is_better=bench.higher_is_better)
        if not rule.conditions:
            raise ConfigError("strategy.rule", f"the {bench.name} data supports no pruning rule for space {self.name!r}; write one")
        return str(rule)


class SpaceWrapper(SearchSpace):
    """A space that changes how architectures are drawn (a pool, a pruning rule) and forwards the rest.

    Subclasses override sampling, mutation and suggestion; everything else, including any
    space-specific extra (a benchmark analysis, a corpus), is the wrapped space's.
    """

    def __init__(self, space: SearchSpace):
        self.inner = space
        self.name = space.name

    def __getattr__(self, name: str):
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def sample(self, rng):
        return self.inner.sample(rng)

    def mutate(self, arch, rng):
        return self.inner.mutate(arch, rng)

    def suggest(self, trial):
        return self.inner.suggest(trial)

    def validate(self, arch) -> None:
        self.inner.validate(arch)

    def hash(self, arch) -> str:
        return self.inner.hash(arch)

    def to_json(self, arch):
        return self.inner.to_json(arch)

    def from_json(self, data):
        return self.inner.from_json(data)

    def describe(self, arch):
        return self.inner.describe(arch)

    def describe_ranges(self):
        return self.inner.describe_ranges()

    def features(self, arch):
        return self.inner.features(arch)

    def build_model(self, arch, seed=None, device="cpu"):
        return self.inner.build_model(arch, seed=seed, device=device)

    def model_builder(self, seed, device="cpu"):
        return self.inner.model_builder(seed, device)

    def metric_batch(self, device="cpu"):
        return self.inner.metric_batch(device)

    def probe(self, model, batch, needs):
        return self.inner.probe(model, batch, needs)

    def packs(self, needs):
        return self.inner.packs(needs)

    def probe_many(self, models, batch, needs):
        return self.inner.probe_many(models, batch, needs)

    def benchmark(self):
        return self.inner.benchmark()

    def degenerate(self, arch):
        return self.inner.degenerate(arch)

    def export(self, arch, out, **kwargs):
        return self.inner.export(arch, out, **kwargs)

    def trainer_class(self):
        return self.inner.trainer_class()

    def provides(self):
        return self.inner.provides()

    def check_needs(self, needs):
        self.inner.check_needs(needs)

    def members(self):
        return self.inner.members()

    def note_evaluated(self, key):
        self.inner.note_evaluated(key)
