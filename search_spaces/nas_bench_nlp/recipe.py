"""NAS-Bench-NLP cell recipes: parsing, validation, canonical form and hash.

A recipe maps node names to ``{"op": OP, "input": [NAMES]}``. The external inputs are ``x``
and ``h_prev_0 .. h_prev_{H-1}``; the outputs are the nodes ``h_new_0 .. h_new_{H-1}``.
Inner node names carry no meaning, so the canonical form renames them, and orders the
inputs of commutative ops, before hashing.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Mapping

from tfnas.errors import InvalidArchitecture

# op -> (min inputs, max inputs)
ARITY: dict[str, tuple[int, int]] = {
    "linear": (2, 3),
    "blend": (3, 3),
    "elementwise_prod": (2, 2),
    "elementwise_sum": (2, 2),
    "activation_tanh": (1, 1),
    "activation_sigm": (1, 1),
    "activation_leaky_relu": (1, 1),
}
ACTIVATIONS = ("activation_tanh", "activation_sigm", "activation_leaky_relu")
# Ops whose value does not depend on the order of their inputs (linear: one weight per input).
COMMUTATIVE = frozenset({"linear", "elementwise_prod", "elementwise_sum"})

INPUT_X = "x"
_H_PREV = re.compile(r"^h_prev_(\d+)$")
_H_NEW = re.compile(r"^h_new_(\d+)$")


def h_prev(i: int) -> str:
    return f"h_prev_{i}"


def h_new(i: int) -> str:
    return f"h_new_{i}"


@dataclass(frozen=True)
class Node:
    op: str
    inputs: tuple[str, ...]


class Recipe:
    """An immutable, validated recurrent cell."""

    def __init__(self, nodes: Mapping[str, Node]):
        self.nodes: dict[str, Node] = dict(nodes)
        self.order: tuple[str, ...] = _validate(self.nodes)

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_json(cls, data: Mapping | str) -> "Recipe":
        """Parse the benchmark's JSON format (a dict, or its JSON text)."""
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as err:
                raise InvalidArchitecture(f"recipe is not valid JSON: {err}") from None
        if not isinstance(data, Mapping) or not data:
            raise InvalidArchitecture("recipe must be a non-empty JSON object mapping node names to {op, input}")
        nodes = {}
        for name, spec in data.items():
            if not isinstance(spec, Mapping) or "op" not in spec or "input" not in spec:
                raise InvalidArchitecture(f"node {name!r}: must be an object with keys 'op' and 'input'")
            inputs = spec["input"]
            if isinstance(inputs, str) or not isinstance(inputs, Iterable):
                raise InvalidArchitecture(f"node {name!r}: 'input' must be a list of node names")
            nodes[str(name)] = Node(str(spec["op"]), tuple(str(i) for i in inputs))
        return cls(nodes)

    def to_json(self) -> dict:
        return {name: {"op": node.op, "input": list(node.inputs)} for name, node in self.nodes.items()}

    # ----------------------------------------------------------------- structure
    @cached_property
    def hidden_tuple_size(self) -> int:
        """H: the number of hidden vectors carried between steps (an LSTM has 2)."""
        return sum(1 for name in self.nodes if _H_NEW.match(name))

    @property
    def external_inputs(self) -> tuple[str, ...]:
        return (INPUT_X,) + tuple(h_prev(i) for i in range(self.hidden_tuple_size))

    @cached_property
    def canonical(self) -> str:
        return _canonical_form(self)

    @cached_property
    def hash(self) -> str:
        return hashlib.sha256(self.canonical.encode()).hexdigest()[:16]

    def ops(self) -> list[str]:
        return [node.op for node in self.nodes.values()]

    def __len__(self) -> int:
        return len(self.nodes)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Recipe) and self.hash == other.hash

    def __hash__(self) -> int:
        return hash(self.hash)

    def __repr__(self) -> str:
        return f"Recipe(H={self.hidden_tuple_size}, nodes={len(self.nodes)}, hash={self.hash})"


def _validate(nodes: dict[str, Node]) -> tuple[str, ...]:
    """Check every rule of a well-formed recipe; return a topological order of the nodes."""
    outputs = sorted(int(m.group(1)) for name in nodes if (m := _H_NEW.match(name)))
    if 0 not in outputs:
        raise InvalidArchitecture("missing output node 'h_new_0': every cell needs it (it is the layer's output)")
    if outputs != list(range(len(outputs))):
        missing = sorted(set(range(max(outputs) + 1)) - set(outputs))
        raise InvalidArchitecture(
            f"output nodes h_new_* must be numbered contiguously from 0; missing {', '.join(h_new(i) for i in missing)}"
        )
    hidden = len(outputs)
    external = {INPUT_X} | {h_prev(i) for i in range(hidden)}
    for name, node in nodes.items():
        if name in external:
            raise InvalidArchitecture(f"node {name!r}: the name is reserved for a cell input")
        if node.op not in ARITY:
            raise InvalidArchitecture(f"node {name!r}: unknown op {node.op!r}; valid ops: {', '.join(ARITY)}")
        low, high = ARITY[node.op]
        if not low <= len(node.inputs) <= high:
            expected = str(low) if low == high else f"{low} or {high}"
            raise InvalidArchitecture(
                f"node {name!r}: op {node.op!r} takes {expected} inputs, got {len(node.inputs)}"
            )
        for source in node.inputs:
            if source == INPUT_X and node.op != "linear":
                raise InvalidArchitecture(f"node {name!r}: only 'linear' may read 'x', not {node.op!r}")
            if source not in nodes and source not in external:
                m = _H_PREV.match(source)
                why = (
                    f"the cell has H={hidden} output(s), so only h_prev_0..h_prev_{hidden - 1} exist"
                    if m
                    else "it is neither a node of the recipe nor a cell input (x, h_prev_*)"
                )
                raise InvalidArchitecture(f"node {name!r}: missing input {source!r}: {why}")
    return _topological_order(nodes)


def _topological_order(nodes: dict[str, Node]) -> tuple[str, ...]:
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for root in nodes:
        if state.get(root) == 2:
            continue
        stack = [(root, iter(nodes[root].inputs))]
        state[root] = 1
        while stack:
            name, children = stack[-1]
            for child in children:
                if child not in nodes:
                    continue
                if state.get(child) == 1:
                    raise InvalidArchitecture(f"node {child!r}: cycle through {name!r}; a cell must be acyclic")
                if state.get(child) is None:
                    state[child] = 1
                    stack.append((child, iter(nodes[child].inputs)))
                    break
            else:
                stack.pop()
                state[name] = 2
                order.append(name)
    return tuple(order)


def _canonical_form(recipe: Recipe) -> str:
    """A text that is equal for recipes equal up to inner-node names and commutative input order.

    Each node gets a structural (Merkle) digest; commutative inputs are ordered by digest;
    nodes are then renamed in depth-first order from h_new_0, h_new_1, ... . Dead nodes
    (reaching no output) follow, ordered by digest. Two structurally identical siblings with
    different sharing elsewhere may, rarely, keep their original order: that can only split
    one architecture into two hashes, never merge two architectures.
    """
    nodes = recipe.nodes
    digest: dict[str, str] = {name: name for name in recipe.external_inputs}
    for name in recipe.order:
        node = nodes[name]
        children = [digest[i] for i in node.inputs]
        if node.op in COMMUTATIVE:
            children.sort()
        label = name if _H_NEW.match(name) else ""
        digest[name] = hashlib.sha1(f"{label}|{node.op}|{','.join(children)}".encode()).hexdigest()

    def ordered_inputs(node: Node) -> list[str]:
        return sorted(node.inputs, key=digest.__getitem__) if node.op in COMMUTATIVE else list(node.inputs)

    names: dict[str, str] = {name: name for name in recipe.external_inputs}
    emitted: list[tuple[str, str, list[str]]] = []

    def visit(root: str) -> None:
        stack = [(root, iter(ordered_inputs(nodes[root])))]
        while stack:
            name, children = stack[-1]
            for child in children:
                if child not in names:
                    stack.append((child, iter(ordered_inputs(nodes[child]))))
                    break
            else:
                stack.pop()
                if name not in names:
                    names[name] = name if _H_NEW.match(name) else f"n{len(emitted)}"
                    emitted.append((name, nodes[name].op, ordered_inputs(nodes[name])))

    for i in range(recipe.hidden_tuple_size):
        visit(h_new(i))
    for name in sorted((n for n in nodes if n not in names), key=digest.__getitem__):
        visit(name)
    lines = [f"{names[n]}={op}({','.join(names[i] for i in inputs)})" for n, op, inputs in emitted]
    return ";".join(lines)
