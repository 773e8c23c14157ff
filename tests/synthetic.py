"""A synthetic search space with a known answer: bit strings scored by agreement with a hidden target."""
from __future__ import annotations


from tfnas.search_space import SearchSpace
from tfnas.metrics.scoring import Evaluation

L = 14
TARGET = tuple(int(b) for b in "10110011100101")


class ModelFreeSpace(SearchSpace):
    """A test space whose architectures are scored by a lookup, not a model: no model, batch or probe."""

    def build_model(self, arch, seed=None, device="cpu"):
        raise NotImplementedError

    def metric_batch(self, device="cpu"):
        return None

    def probe(self, model, batch, needs):
        return None


class BitSpace(ModelFreeSpace):
    name = "bits"

    def sample(self, rng):
        return tuple(int(b) for b in rng.integers(0, 2, L))

    def mutate(self, arch, rng):
        i = int(rng.integers(L))
        return arch[:i] + (1 - arch[i],) + arch[i + 1 :]

    def validate(self, arch):
        assert len(arch) == L

    def hash(self, arch):
        return "".join(map(str, arch))

    def to_json(self, arch):
        return list(arch)

    def from_json(self, data):
        return tuple(int(b) for b in data)

    def describe(self, arch):
        return {"ones": sum(arch), "first": arch[0], "last": arch[-1]}

    def describe_ranges(self):
        return {"ones": (0, L), "first": [0, 1], "last": [0, 1]}

    def suggest(self, trial):
        return tuple(trial.suggest_int(f"b{i}", 0, 1) for i in range(L))


def agreement(arch) -> int:
    return sum(a == t for a, t in zip(arch, TARGET))


class BitScorer:
    """Counts its calls, so tests can check nothing is scored twice. `size` is a second objective."""

    keys = ["agree", "size"]

    def __init__(self):
        self.calls = 0

    def __call__(self, arch) -> Evaluation:
        self.calls += 1
        return Evaluation({"agree": float(agreement(arch)), "size": float(sum(arch))})
