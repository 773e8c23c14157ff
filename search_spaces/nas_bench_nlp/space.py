"""The NAS-Bench-NLP recurrent-cell search space."""
from __future__ import annotations

import json
from functools import cached_property
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from tfnas.search_space import SPACES, SearchSpace
from tfnas.search_spaces.nas_bench_nlp.generator import generate, mutate, prune_dead
from tfnas.search_spaces.nas_bench_nlp.model import RNNLanguageModel
from tfnas.search_spaces.nas_bench_nlp.probe import PROVIDES, RNNProbe, check_needs
from tfnas.search_spaces.nas_bench_nlp.recipe import ARITY, INPUT_X, Node, Recipe, h_new, h_prev
from tfnas.data import batchify, load_ptb, resource_path
from tfnas.errors import ConfigError, InvalidArchitecture

# Upper end of the node counts' Optuna distributions (benchmark cells have at most 24 nodes; a longer
# evolution may grow past it, and such a count is then kept out of the trial's params).
MAX_DESCRIBED_NODES = 64

# Optuna encoding: ops a slot may take ("none" leaves the slot empty).
SUGGEST_OPS = ("none",) + tuple(ARITY)


@SPACES.register("rnn")
class NasBenchNLPSpace(SearchSpace[Recipe]):
    """Recurrent cells of NAS-Bench-NLP inside the benchmark's 3-layer language model.

    Sampling uses the benchmark's generator, drawing H from `hidden_tuple_sizes` with
    `hidden_tuple_weights` (default: the benchmark's own mix, 161 : 141 : 43).
    """

    name = "rnn"

    def __init__(
        self,
        hidden_tuple_sizes: Sequence[int] = (1, 2, 3),
        hidden_tuple_weights: Sequence[float] = (161, 141, 43),
        num_vertices: int = 7,
        count_activations: bool = False,
        model: dict | None = None,
        batch_size: int = 50,
        seq_len: int = 70,
        split: str = "test",
        max_suggest_nodes: int = 12,
    ):
        if len(hidden_tuple_sizes) != len(hidden_tuple_weights) or not hidden_tuple_sizes:
            raise ConfigError("space.hidden_tuple_weights", "needs one weight per entry of space.hidden_tuple_sizes")
        if any(h < 1 for h in hidden_tuple_sizes):
            raise ConfigError("space.hidden_tuple_sizes", f"every H must be >= 1, got {list(hidden_tuple_sizes)}")
        for field, value in (("space.batch_size", batch_size), ("space.seq_len", seq_len)):
            if int(value) < 1:
                raise ConfigError(field, f"must be a positive integer, got {value}")
        self.hidden_tuple_sizes = [int(h) for h in hidden_tuple_sizes]
        weights = np.asarray(hidden_tuple_weights, dtype=float)
        self.hidden_tuple_probs = weights / weights.sum()
        self.num_vertices = int(num_vertices)
        self.count_activations = bool(count_activations)
        self.model_kwargs = dict(model or {})
        self.batch_size = int(batch_size)
        self.seq_len = int(seq_len)
        self.split = split
        self.max_suggest_nodes = int(max_suggest_nodes)

    # -- architectures ---------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Recipe:
        hidden = self.hidden_tuple_sizes[rng.choice(len(self.hidden_tuple_sizes), p=self.hidden_tuple_probs)]
        return generate(rng, hidden, self.num_vertices, self.count_activations)

    def mutate(self, arch: Recipe, rng: np.random.Generator) -> Recipe:
        return mutate(arch, rng)

    def validate(self, arch: Recipe) -> None:
        Recipe(arch.nodes)

    def hash(self, arch: Recipe) -> str:
        return arch.hash

    def to_json(self, arch: Recipe) -> dict:
        return arch.to_json()

    def from_json(self, data: Any) -> Recipe:
        return Recipe.from_json(data)

    def describe(self, arch: Recipe) -> dict[str, Any]:
        ops = arch.ops()
        return {
            "hidden_tuple_size": arch.hidden_tuple_size,
            "num_nodes": len(arch),
            "num_linear": ops.count("linear"),
            "num_blend": ops.count("blend"),
            "num_elementwise": ops.count("elementwise_prod") + ops.count("elementwise_sum"),
        }

    def describe_ranges(self) -> dict[str, Any]:
        """H within the sizes this space (and the benchmark) uses; node counts up to MAX_DESCRIBED_NODES."""
        top = max(3, *self.hidden_tuple_sizes)
        counts = {name: (0, MAX_DESCRIBED_NODES) for name in ("num_linear", "num_blend", "num_elementwise")}
        return {"hidden_tuple_size": (1, top), "num_nodes": (1, MAX_DESCRIBED_NODES), **counts}

    def features(self, arch: Recipe) -> np.ndarray:
        """H, size, a count per op, how many nodes read x / an h_prev, and the cell's depth."""
        ops = arch.ops()
        depth: dict[str, int] = {}
        for name in arch.order:
            depth[name] = 1 + max((depth.get(i, 0) for i in arch.nodes[name].inputs), default=0)
        reads = [node.inputs for node in arch.nodes.values()]
        return np.array(
            [arch.hidden_tuple_size, len(arch), *(ops.count(op) for op in ARITY),
             sum(INPUT_X in r for r in reads), sum(any(i.startswith("h_prev") for i in r) for r in reads),
             max(depth.values(), default=0)],
            dtype=float,
        )

    # -- Optuna encoding ---------------------------------------------------------------
    def suggest(self, trial) -> Recipe:
        """Fixed-size encoding: H, then `max_suggest_nodes` slots, each an op (or none) and 3 input indices.

        Slot i may read the cell inputs and slots before it; each input index is taken modulo the
        number of legal sources not yet chosen for that slot (so inputs are distinct and every
        suggestion decodes). Output j is the last non-empty
        slot chosen by `out_j`. Dead slots are pruned; a recipe that is still invalid is
        rejected with InvalidArchitecture (the strategy then prunes the trial).
        """
        hidden = trial.suggest_categorical("H", self.hidden_tuple_sizes)
        inputs = [INPUT_X] + [h_prev(j) for j in range(hidden)]
        nodes: dict[str, Node] = {}
        names: list[str] = []
        for i in range(self.max_suggest_nodes):
            op = trial.suggest_categorical(f"op_{i}", SUGGEST_OPS)
            picks = [trial.suggest_int(f"in_{i}_{k}", 0, 63) for k in range(3)]
            if op == "none":
                continue
            low = ARITY[op][0]
            arity = 3 if op == "linear" and trial.suggest_int(f"three_{i}", 0, 1) else low
            pool = [s for s in inputs + names if op == "linear" or s != INPUT_X]
            if len(pool) < arity:
                continue
            chosen: list[str] = []
            for p in picks[:arity]:  # distinct inputs: each pick indexes the sources not yet taken
                chosen.append(pool.pop(p % len(pool)))
            name = f"node_{i}"
            nodes[name] = Node(op, tuple(chosen))
            names.append(name)
        if len(names) < hidden:
            raise InvalidArchitecture(f"only {len(names)} non-empty slots for H={hidden} outputs")
        outputs = []
        for j in range(hidden):
            pick = trial.suggest_int(f"out_{j}", 0, self.max_suggest_nodes - 1)
            candidates = [n for n in names if n not in outputs]
            outputs.append(candidates[pick % len(candidates)])
        rename = {old: h_new(j) for j, old in enumerate(outputs)}
        nodes = {
            rename.get(n, n): Node(node.op, tuple(rename.get(i, i) for i in node.inputs)) for n, node in nodes.items()
        }
        nodes = prune_dead(nodes, [h_new(j) for j in range(hidden)])
        recipe = Recipe(nodes)
        if not any(INPUT_X in node.inputs for node in recipe.nodes.values()):
            raise InvalidArchitecture("the suggested cell never reads x")
        return recipe

    # -- models and data ---------------------------------------------------------------
    @cached_property
    def corpus(self):
        return load_ptb()

    def build_model(self, arch: Recipe, seed: int | None = None, device: str | torch.device = "cpu"):
        if seed is not None:
            torch.manual_seed(seed)
        return RNNLanguageModel(arch, self.corpus.vocab_size, **self.model_kwargs).to(device)

    def metric_batch(self, device: str | torch.device = "cpu") -> torch.Tensor:
        """The first `seq_len` rows of the split batchified into `batch_size` columns (T x B token ids)."""
        columns = batchify(self.corpus.split(self.split), self.batch_size)
        if columns.size(0) < self.seq_len:
            raise ConfigError("space.seq_len", f"the {self.split} split has only {columns.size(0)} rows at this batch size")
        return columns[: self.seq_len].to(device)

    def probe(self, model, batch, needs: Iterable[str]) -> RNNProbe:
        return RNNProbe(model, batch, needs)

    def provides(self) -> frozenset[str]:
        return PROVIDES

    def check_needs(self, needs: Iterable[str]) -> None:
        check_needs(set(needs), int(self.model_kwargs.get("nlayers", 3)))

    def trainer_class(self):
        from tfnas.search_spaces.nas_bench_nlp.trainer import RNNLanguageModelTrainer

        return RNNLanguageModelTrainer

    # -- labelled architectures ----------------------------------------------------------
    @cached_property
    def _benchmark(self):
        from tfnas.search_spaces.nas_bench_nlp.benchmark import NasBenchNLP

        return NasBenchNLP(self)

    def benchmark(self):
        return self._benchmark


def load_recipes(path=None) -> dict[int, Recipe]:
    """model_id -> Recipe from a file in the format of NAS-Bench-NLP's `recipes.json` (the shipped one by default)."""
    path = path or resource_path("nas_bench_nlp", "recipes.json")
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    entries = data["architectures"] if isinstance(data, dict) and "architectures" in data else data
    recipes = {}
    for entry in entries:
        try:
            recipes[int(entry["model_id"])] = Recipe.from_json(entry["recipe"])
        except InvalidArchitecture as err:
            raise InvalidArchitecture(f"{path}: model {entry.get('model_id')}: {err}") from None
    return recipes
