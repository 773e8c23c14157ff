"""The NAS-Bench-NLP recurrent-cell search space."""
from __future__ import annotations

from functools import cached_property
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from tfnas.search_space import SPACES, SearchSpace
from tfnas.search_spaces.nas_bench_nlp.generator import generate, mutate, prune_dead
from tfnas.search_spaces.nas_bench_nlp.build import RNNModelBuilder
from tfnas.probe import check_needs
import tfnas.search_spaces.nas_bench_nlp.passes as passes
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe, check_layers, probe_many
from tfnas.search_spaces.nas_bench_nlp.recipe import ARITY, INPUT_X, MAX_HIDDEN, MAX_NODES, Node, Recipe, h_new, h_prev, reads_x
from tfnas.search_spaces.nas_bench_nlp.shipped import data_path, load_ptb, load_recipes  # noqa: F401 (load_recipes: re-exported)
from tfnas.search_spaces.nas_bench_nlp.size import check_rnn_size
from tfnas.data import batchify, load_word_corpus
from tfnas.data.text_file import DEFAULT_CORPUS_MB, megabytes
from tfnas.errors import ConfigError, InvalidArchitecture
from tfnas.seeded_init import resolve_seed
from tfnas.validate import boolean, fraction, positive_int

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
        split: str | None = None,
        max_suggest_nodes: int = 12,
        corpus: str | None = None,
        vocab_size: int | None = None,
        max_corpus_mb: float = DEFAULT_CORPUS_MB,
    ):
        if len(hidden_tuple_sizes) != len(hidden_tuple_weights) or not hidden_tuple_sizes:
            raise ConfigError("space.hidden_tuple_weights", "needs one weight per entry of space.hidden_tuple_sizes")
        if any(isinstance(h, bool) or not isinstance(h, int) or not 1 <= h <= MAX_HIDDEN for h in hidden_tuple_sizes):
            raise ConfigError("space.hidden_tuple_sizes", f"every H must be an integer in 1..{MAX_HIDDEN}, got {list(hidden_tuple_sizes)}")
        check_model(model or {})
        check_rnn_size(model or {}, vocab_size or 3)  # the smallest model these sizes allow, before any corpus is read
        for field, value in (("space.batch_size", batch_size), ("space.seq_len", seq_len),
                             ("space.num_vertices", num_vertices), ("space.max_suggest_nodes", max_suggest_nodes)):
            positive_int(value, field)
        for field, value in (("space.num_vertices", num_vertices), ("space.max_suggest_nodes", max_suggest_nodes)):
            if value > MAX_NODES // 2:
                raise ConfigError(field, f"at most {MAX_NODES // 2} (a cell has at most {MAX_NODES} nodes), got {value}")
        boolean(count_activations, "space.count_activations")
        self.hidden_tuple_sizes = [int(h) for h in hidden_tuple_sizes]
        weights = np.asarray(hidden_tuple_weights, dtype=float)
        self.hidden_tuple_probs = weights / weights.sum()
        self.num_vertices = int(num_vertices)
        self.count_activations = bool(count_activations)
        self.model_kwargs = dict(model or {})
        self.batch_size = int(batch_size)
        self.seq_len = int(seq_len)
        self.corpus_path = str(corpus) if corpus else None
        self.vocab_size = vocab_size
        self.max_corpus_mb = max_corpus_mb
        megabytes(max_corpus_mb, "space.max_corpus_mb")
        # the metric split: PTB's test split (the benchmark's), or the train split of a user's corpus
        self.split = split or ("train" if self.corpus_path else "test")
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

    def degenerate(self, arch: Recipe) -> str | None:
        """A cell whose output h_new_0 (what the next layer and the decoder read) does not depend on the step's
        input x within the step: x reaches it only through h_prev, one step late, so each of the model's layers
        lags its input by a step and the model predicts the next token without seeing the current one. All 25
        such cells among the 215 distinct PTB-labelled NAS-Bench-NLP cells train to a test loss of 6.20 or
        worse (pool median 5.14), and hidden covariance ranks them among its favourites."""
        if reads_x(arch.nodes, 1):  # the outputs h_new_0 .. h_new_{hidden-1}: 1 means h_new_0 alone
            return None
        return "output h_new_0 does not read the step's input x (each layer lags its input by one step)"

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
        return Recipe(nodes)  # refuses a cell that never reads x, as on every other path

    # -- models and data ---------------------------------------------------------------
    @cached_property
    def corpus(self):
        """The word corpus: shipped PTB (valid + test), or `space.corpus` with `space.vocab_size`."""
        if self.corpus_path:
            return load_word_corpus(self.corpus_path, self.vocab_size, self.max_corpus_mb)
        if self.vocab_size is not None:
            return load_word_corpus(data_path("ptb"), self.vocab_size, self.max_corpus_mb)
        return load_ptb()

    def split_tokens(self, split: str, purpose: str, field: str = "space.split") -> torch.Tensor:
        """A split's token ids; a split the corpus lacks is refused, naming the purpose."""
        if split not in self.corpus.splits:
            from tfnas.data.user_corpus import require_split

            if self.corpus_path:
                require_split(self.corpus.splits, split, purpose, self.corpus_path)
            raise ConfigError(field, f"unknown split {split!r} of {self.corpus.name}; valid choices: {', '.join(self.corpus.splits)}")
        return self.corpus.splits[split]

    def build_model(self, arch: Recipe, seed: int | None = None, device: str | torch.device = "cpu"):
        """A fresh full build: the builder of `model_builder` applied once (the same weights, bit for bit)."""
        return self.model_builder(resolve_seed(seed), device)(arch)

    def model_builder(self, seed: int, device: str | torch.device = "cpu") -> RNNModelBuilder:
        """Builds the embedding and the tied decoder once, on `device`; then per recipe only its cells."""
        return RNNModelBuilder(self.corpus.vocab_size, self.model_kwargs, seed, device)

    def metric_batch(self, device: str | torch.device = "cpu") -> torch.Tensor:
        """The first `seq_len` rows of the split batchified into `batch_size` columns (T x B token ids)."""
        tokens = self.split_tokens(self.split, f"the metric minibatch (space.split={self.split})")
        if self.batch_size > tokens.numel():
            raise ConfigError("space.batch_size", f"the {self.split} split has only {tokens.numel()} tokens, fewer than "
                              f"batch_size={self.batch_size} columns; lower space.batch_size")
        need = self.batch_size * self.seq_len
        if tokens.numel() < need:
            field = "space.corpus" if self.corpus_path else "space.seq_len"
            raise ConfigError(field, f"the {self.corpus.name} {self.split} split has {tokens.numel():,} tokens, fewer than the "
                              f"metric minibatch needs (space.batch_size {self.batch_size} x space.seq_len {self.seq_len} = {need:,}); "
                              "give more text or lower space.batch_size / space.seq_len")
        columns = batchify(tokens, self.batch_size)
        return columns[: self.seq_len].to(device)

    def lm_classes(self, batch: torch.Tensor) -> torch.Tensor:
        """The class of each position for the LM proxies: the next token (-1 for the last step)."""
        classes = torch.full_like(batch, -1)
        classes[:-1] = batch[1:]
        return classes

    def probe(self, model, batch, needs: Iterable[str]) -> RNNProbe:
        return RNNProbe(model, batch, needs)

    def packs(self, needs: Iterable[str]) -> bool:
        """Packs when a need is served by a pass over the cells (not the LM pass alone; passes.py says why)."""
        return passes.packs(needs)

    def probe_many(self, models, batch, needs: Iterable[str]) -> list[RNNProbe]:
        """One probe per model from one pass over all their cells (models of one `model_builder`)."""
        return probe_many(models, batch, needs)

    def provides(self) -> frozenset[str]:
        return RNNProbe.provides()

    def check_needs(self, needs: Iterable[str]) -> None:
        check_needs(needs, self.provides(), self.name)
        check_layers(needs, int(self.model_kwargs.get("nlayers", 3)))

    def trainer_class(self):
        from tfnas.search_spaces.nas_bench_nlp.trainer import RNNLanguageModelTrainer

        return RNNLanguageModelTrainer

    def export(self, arch: Recipe, out, *, checkpoint=None, seed: int = 0, options: dict | None = None) -> dict:
        from tfnas.search_spaces.nas_bench_nlp.export import export_rnn

        return export_rnn(self, arch, out, checkpoint, seed, (options or {}).get("model"))

    # -- labelled architectures ----------------------------------------------------------
    @cached_property
    def _benchmark(self):
        from tfnas.search_spaces.nas_bench_nlp.benchmark import NasBenchNLP

        return NasBenchNLP(self)

    def benchmark(self):
        return self._benchmark


MODEL_SIZES = ("emsize", "nhid", "nlayers")
MODEL_RATES = ("dropout", "dropouth", "dropouti", "dropoute", "wdrop")


def check_model(model: dict) -> None:
    """space.model: sizes are positive integers, dropout rates in [0, 1), tie_weights a bool, nothing unknown."""
    known = (*MODEL_SIZES, *MODEL_RATES, "tie_weights")
    for key, value in model.items():
        field = f"space.model.{key}"
        if key in MODEL_SIZES:
            positive_int(value, field)
        elif key in MODEL_RATES:
            fraction(value, field)
        elif key == "tie_weights":
            boolean(value, field)
        else:
            raise ConfigError(field, f"unknown model option; valid options: {', '.join(known)}")
