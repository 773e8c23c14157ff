"""The NAS-Bench-NLP cell generator and the mutation operator.

The generator follows the benchmark's published procedure (see the spec): ops drawn with
weights linear 3 : blend 1 : prod 1 : sum 1, every linear followed by an activation, H of the
made nodes become the outputs, dead nodes are pruned, and cells that drop an input or feed an
h_prev straight into an output are drawn again.

One measured deviation from the spec's wording: by default the activation added after each
linear does not count towards the H + V budget. The benchmark's own cells show why: their
node names (node_<k>, numbered as made) reach k = 15, and they have up to 15 nodes after
pruning, which a budget of H + V = 8..10 made nodes cannot produce. Not counting activations
reproduces the per-H node counts of the 345 cells (tests/test_generator.py);
`count_activations=True` gives the literal reading.
"""
from __future__ import annotations

import numpy as np

from tfnas.search_spaces.nas_bench_nlp.recipe import (
    ACTIVATIONS,
    ARITY,
    INPUT_X,
    Node,
    Recipe,
    h_new,
    h_prev,
)
from tfnas.errors import InvalidArchitecture

GENERATOR_OPS = ("linear", "blend", "elementwise_prod", "elementwise_sum")
GENERATOR_WEIGHTS = np.array([3, 1, 1, 1], dtype=float) / 6
MAX_DRAWS = 10_000


def generate(
    rng: np.random.Generator, hidden_tuple_size: int, num_vertices: int = 7, count_activations: bool = False
) -> Recipe:
    """Draw one cell of hidden tuple size H with a budget of V intermediate vertices."""
    if hidden_tuple_size < 1:
        raise ValueError(f"hidden_tuple_size must be >= 1, got {hidden_tuple_size}")
    for _ in range(MAX_DRAWS):
        nodes = _draw(rng, hidden_tuple_size, num_vertices, count_activations)
        if nodes is not None:
            return Recipe(nodes)
    raise RuntimeError(f"no valid cell after {MAX_DRAWS} draws (H={hidden_tuple_size}, V={num_vertices})")


def _draw(rng: np.random.Generator, hidden: int, budget: int, count_activations: bool) -> dict[str, Node] | None:
    prevs = [h_prev(i) for i in range(hidden)]
    nodes: dict[str, Node] = {}
    activations: list[str] = []
    made = 0  # vertices that count towards the budget

    def add(op: str, inputs) -> str:
        name = f"node_{len(nodes)}"
        nodes[name] = Node(op, tuple(str(i) for i in inputs))
        return name

    while made < hidden + budget:
        op = GENERATOR_OPS[rng.choice(len(GENERATOR_OPS), p=GENERATOR_WEIGHTS)]
        if op == "linear":
            candidates = [INPUT_X] + prevs + activations
            k = min(2 if rng.random() < 0.8 else 3, len(candidates))
            linear = add("linear", rng.choice(candidates, size=k, replace=False))
            activations.append(add(ACTIVATIONS[rng.integers(len(ACTIVATIONS))], [linear]))
            made += 2 if count_activations else 1
        else:
            arity = ARITY[op][0]
            candidates = prevs + list(nodes)
            if len(candidates) < arity:
                continue
            add(op, rng.choice(candidates, size=arity, replace=False))
            made += 1

    names = list(nodes)
    chosen = [names[i] for i in rng.choice(len(names), size=hidden, replace=False)]
    rename = {old: h_new(i) for i, old in enumerate(chosen)}
    nodes = {
        rename.get(name, name): Node(node.op, tuple(rename.get(i, i) for i in node.inputs))
        for name, node in nodes.items()
    }
    nodes = prune_dead(nodes, [h_new(i) for i in range(hidden)])

    used = {i for node in nodes.values() for i in node.inputs}
    if not {INPUT_X, *prevs} <= used:
        return None
    if any(i in prevs for j in range(hidden) for i in nodes[h_new(j)].inputs):
        return None
    return nodes


def prune_dead(nodes: dict[str, Node], outputs: list[str]) -> dict[str, Node]:
    """Keep only the nodes from which some output can be reached."""
    alive: set[str] = set()
    stack = list(outputs)
    while stack:
        name = stack.pop()
        if name in alive or name not in nodes:
            continue
        alive.add(name)
        stack.extend(nodes[name].inputs)
    return {name: node for name, node in nodes.items() if name in alive}


# ---------------------------------------------------------------------------- mutation
MUTATIONS = ("change_op", "rewire", "add_node", "remove_node")


def mutate(recipe: Recipe, rng: np.random.Generator, max_tries: int = 1000) -> Recipe:
    """Return a valid recipe that differs from `recipe` (another hash) by one random edit.

    Edits: change an op (keeping its arity legal), rewire one input, add a node on an edge,
    or remove a node (bypassing it). The result must still read `x` so the cell sees its input.
    """
    for _ in range(max_tries):
        kind = MUTATIONS[rng.integers(len(MUTATIONS))]
        nodes = getattr(_Mutator(recipe, rng), kind)()
        if nodes is None:
            continue
        nodes = prune_dead(nodes, [h_new(i) for i in range(recipe.hidden_tuple_size)])
        if not any(INPUT_X in node.inputs for node in nodes.values()):
            continue
        try:
            child = Recipe(nodes)
        except InvalidArchitecture:
            continue
        if child.hash != recipe.hash:
            return child
    raise RuntimeError(f"could not mutate {recipe!r} in {max_tries} tries")


class _Mutator:
    def __init__(self, recipe: Recipe, rng: np.random.Generator):
        self.recipe = recipe
        self.rng = rng
        self.nodes = dict(recipe.nodes)
        self.names = list(recipe.order)

    def _pick(self, seq):
        return seq[self.rng.integers(len(seq))]

    def _sources_for(self, name: str, op: str) -> list[str]:
        """Inputs `name` may read without making a cycle: cell inputs and nodes before it in topological order."""
        earlier = self.names[: self.names.index(name)] if name in self.names else self.names
        pool = [i for i in self.recipe.external_inputs if op == "linear" or i != INPUT_X]
        return pool + earlier

    def change_op(self):
        name = self._pick(self.names)
        node = self.nodes[name]
        op = self._pick([op for op in ARITY if op != node.op])
        low, high = ARITY[op]
        inputs = list(node.inputs)
        if op != "linear":
            inputs = [i for i in inputs if i != INPUT_X]
        sources = [s for s in self._sources_for(name, op) if s not in inputs]
        while len(inputs) < low and sources:
            inputs.append(sources.pop(self.rng.integers(len(sources))))
        if len(inputs) < low:
            return None
        inputs = inputs[:high]
        self.nodes[name] = Node(op, tuple(inputs))
        return self.nodes

    def rewire(self):
        name = self._pick(self.names)
        node = self.nodes[name]
        slot = self.rng.integers(len(node.inputs))
        sources = [s for s in self._sources_for(name, node.op) if s != node.inputs[slot]]
        if not sources:
            return None
        inputs = list(node.inputs)
        inputs[slot] = self._pick(sources)
        self.nodes[name] = Node(node.op, tuple(inputs))
        return self.nodes

    def add_node(self):
        """Insert a new node on one input edge of an existing node."""
        name = self._pick(self.names)
        node = self.nodes[name]
        slot = self.rng.integers(len(node.inputs))
        source = node.inputs[slot]
        op = self._pick(list(ARITY)) if source != INPUT_X else "linear"
        extra = [s for s in self._sources_for(name, op) if s != source]
        needed = ARITY[op][0] - 1
        if len(extra) < needed:
            return None
        picks = [extra[i] for i in self.rng.choice(len(extra), size=needed, replace=False)]
        new_name = f"node_m{len(self.nodes)}"
        while new_name in self.nodes:
            new_name += "_"
        self.nodes[new_name] = Node(op, tuple([source] + picks))
        inputs = list(node.inputs)
        inputs[slot] = new_name
        self.nodes[name] = Node(node.op, tuple(inputs))
        return self.nodes

    def remove_node(self):
        """Remove an inner node, wiring its first input to everything that read it."""
        inner = [n for n in self.names if not n.startswith("h_new_")]
        if not inner:
            return None
        name = self._pick(inner)
        replacement = self.nodes.pop(name).inputs[0]
        for other, node in list(self.nodes.items()):
            if name in node.inputs:
                if replacement == INPUT_X and node.op != "linear":
                    return None
                self.nodes[other] = Node(node.op, tuple(replacement if i == name else i for i in node.inputs))
        return self.nodes
