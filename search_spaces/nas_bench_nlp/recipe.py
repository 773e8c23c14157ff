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
from functools import cached_property
from typing import Mapping

from tfnas.errors import InvalidArchitecture
# the names and the node type the exported model's standalone cell defines (it imports nothing from tfnas)
from tfnas.search_spaces.nas_bench_nlp.recipe_cell import INPUT_X, h_new, h_prev  # noqa: F401 (re-exported)
from tfnas.search_spaces.nas_bench_nlp.recipe_cell import CellNode as Node

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

_H_PREV = re.compile(r"^h_prev_(\d+)$")
_H_NEW = re.compile(r"^h_new_(0|[1-9]\d*)$")
_H_NEW_LIKE = re.compile(r"^h_new_\d+$")  # h_new_01: looks like an output but is not one

# Bounds checked before anything is allocated: the benchmark's cells have at most 15 nodes, H <= 3 and
# names of 13 characters; a recipe beyond these is refused with a short message.
MAX_NODES = 100
MAX_HIDDEN = 8
MAX_NAME = 64
MAX_JSON_CHARS = 100_000
MAX_MESSAGE = 500


def _q(value) -> str:
    """A name or op for a message, never longer than about 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _invalid(message: str) -> InvalidArchitecture:
    return InvalidArchitecture(message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "...")


def _name(value, what: str) -> str:
    if not isinstance(value, str):
        raise _invalid(f"{what} {_q(value)}: node names must be strings")
    if len(value) > MAX_NAME:
        raise _invalid(f"{what} {_q(value)}: names are at most {MAX_NAME} characters long")
    return value


class Recipe:
    """An immutable, validated recurrent cell."""

    def __init__(self, nodes: Mapping[str, Node]):
        self.nodes: dict[str, Node] = dict(nodes)
        self.order: tuple[str, ...] = _validate(self.nodes)

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_json(cls, data: Mapping | str) -> "Recipe":
        """Parse the benchmark's JSON format (a dict, or its JSON text)."""
        if isinstance(data, (str, bytes)):
            if len(data) > MAX_JSON_CHARS:
                raise _invalid(f"recipe JSON is {len(data)} characters long; at most {MAX_JSON_CHARS} are allowed")
            try:
                data = json.loads(data)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
                raise _invalid(f"recipe is not valid JSON: {err}") from None
        if not isinstance(data, Mapping) or not data:
            raise _invalid("recipe must be a non-empty JSON object mapping node names to {op, input}")
        if len(data) > MAX_NODES:
            raise _invalid(f"recipe has {len(data)} nodes; at most {MAX_NODES} are allowed")
        nodes = {}
        for name, spec in data.items():
            name = _name(name, "node")
            if not isinstance(spec, Mapping) or "op" not in spec or "input" not in spec:
                raise _invalid(f"node {_q(name)}: must be an object with keys 'op' and 'input'")
            inputs, op = spec["input"], spec["op"]
            if not isinstance(op, str) or op not in ARITY:
                raise _invalid(f"node {_q(name)}: unknown op {_q(op)}; valid ops: {', '.join(ARITY)}")
            if not isinstance(inputs, (list, tuple)):
                raise _invalid(f"node {_q(name)}: 'input' must be a list of node names")
            if len(inputs) > max(high for _, high in ARITY.values()):
                raise _invalid(f"node {_q(name)}: op {op!r} takes at most {ARITY[op][1]} inputs, got {len(inputs)}")
            nodes[name] = Node(op, tuple(_name(i, f"node {_q(name)}: input") for i in inputs))
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
    if len(nodes) > MAX_NODES:
        raise _invalid(f"recipe has {len(nodes)} nodes; at most {MAX_NODES} are allowed")
    for name in nodes:
        _name(name, "node")
        if _H_NEW_LIKE.match(name) and not _H_NEW.match(name):
            raise _invalid(f"node {_q(name)}: output names are h_new_0, h_new_1, ... without leading zeros")
        m = _H_NEW.match(name)
        if m and (len(m.group(1)) > 2 or int(m.group(1)) >= MAX_HIDDEN):
            raise _invalid(f"node {_q(name)}: a cell has at most {MAX_HIDDEN} outputs (h_new_0 .. h_new_{MAX_HIDDEN - 1})")
    outputs = sorted(int(m.group(1)) for name in nodes if (m := _H_NEW.match(name)))
    if 0 not in outputs:
        raise _invalid("missing output node 'h_new_0': every cell needs it (it is the layer's output)")
    if outputs != list(range(len(outputs))):
        missing = sorted(set(range(max(outputs) + 1)) - set(outputs))
        raise _invalid(
            f"output nodes h_new_* must be numbered contiguously from 0; missing {', '.join(h_new(i) for i in missing)}"
        )
    hidden = len(outputs)
    external = {INPUT_X} | {h_prev(i) for i in range(hidden)}
    for name, node in nodes.items():
        if name in external:
            raise _invalid(f"node {_q(name)}: the name is reserved for a cell input")
        if node.op not in ARITY:
            raise _invalid(f"node {_q(name)}: unknown op {_q(node.op)}; valid ops: {', '.join(ARITY)}")
        low, high = ARITY[node.op]
        if not low <= len(node.inputs) <= high:
            expected = str(low) if low == high else f"{low} or {high}"
            raise _invalid(
                f"node {_q(name)}: op {node.op!r} takes {expected} inputs, got {len(node.inputs)}"
            )
        for source in node.inputs:
            if source == INPUT_X and node.op != "linear":
                raise _invalid(f"node {_q(name)}: only 'linear' may read 'x', not {node.op!r}")
            if source not in nodes and source not in external:
                m = _H_PREV.match(source)
                why = (
                    f"the cell has H={hidden} output(s), so only h_prev_0..h_prev_{hidden - 1} exist"
                    if m
                    else "it is neither a node of the recipe nor a cell input (x, h_prev_*)"
                )
                raise _invalid(f"node {_q(name)}: missing input {_q(source)}: {why}")
    order = _topological_order(nodes)
    if not reads_x(nodes, hidden):
        raise _invalid("the cell never reads x: at least one linear node feeding an output must read the step input 'x'")
    return order


def reads_x(nodes: Mapping[str, Node], hidden: int) -> bool:
    """Whether a node that some output depends on reads x: the one rule for every path
    (benchmark files, JSON, sampling, mutation and Optuna suggestions)."""
    stack, seen = [h_new(i) for i in range(hidden)], set()
    while stack:
        name = stack.pop()
        if name in seen or name not in nodes:
            continue
        seen.add(name)
        if INPUT_X in nodes[name].inputs:
            return True
        stack.extend(nodes[name].inputs)
    return False


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
                    raise _invalid(f"node {_q(child)}: cycle through {_q(name)}; a cell must be acyclic")
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
