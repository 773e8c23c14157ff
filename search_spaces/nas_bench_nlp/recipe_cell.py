"""A NAS-Bench-NLP recurrent cell as a torch module, from its recipe; torch only, nothing from tfnas.

This file is copied verbatim into exported RNN model folders (`tfnas export`), where the Hugging Face
model (`modeling_nas_bench_nlp.py`) imports it with `trust_remote_code=True`, so it must stand alone.
Inside tfnas, `RNNLanguageModel` (model.py) uses the same classes, so both compute the same numbers.

Speed comes from the shape of the work, not from tricks: every `linear` node's weight on `x` is
applied to all T steps at once (one large GEMM per layer), and all weights reading the same
`h_prev_j` are concatenated so each step does one GEMM per hidden input instead of one per node.

A recipe here is anything with `nodes` (name -> object with `op` and `inputs`), `order` (a topological
order of the node names) and `hidden_tuple_size`: tfnas's validated `Recipe`, or `CellRecipe.from_json`
of the benchmark's JSON format in an exported folder.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn

INPUT_X = "x"
_OUTPUT = re.compile(r"^h_new_(0|[1-9]\d*)$")  # h_new_1_part1 is an inner node, not an output


def h_prev(i: int) -> str:
    return f"h_prev_{i}"


def h_new(i: int) -> str:
    return f"h_new_{i}"


@dataclass(frozen=True)
class CellNode:
    op: str
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class CellRecipe:
    """A recipe read from the benchmark's JSON format (`{name: {"op": OP, "input": [NAMES]}}`), unvalidated:
    an exported folder holds a recipe tfnas validated when it wrote the folder."""

    nodes: dict
    order: tuple[str, ...]
    hidden_tuple_size: int

    @classmethod
    def from_json(cls, data: Mapping) -> "CellRecipe":
        nodes = {name: CellNode(spec["op"], tuple(spec["input"])) for name, spec in data.items()}
        hidden = sum(1 for name in nodes if _OUTPUT.match(name))
        return cls(nodes, topological_order(nodes), hidden)


def topological_order(nodes: Mapping) -> tuple[str, ...]:
    """Every node after the nodes it reads (inputs that are not nodes, x and h_prev_*, are skipped)."""
    order: list[str] = []
    done: set[str] = set()
    for root in nodes:
        stack = [(root, iter(nodes[root].inputs))]
        while stack:
            name, children = stack[-1]
            child = next((c for c in children if c in nodes and c not in done and c != name), None)
            if child is not None:
                if any(child == entry[0] for entry in stack):
                    raise ValueError(f"recipe node {child!r}: cycle through {name!r}")
                stack.append((child, iter(nodes[child].inputs)))
                continue
            stack.pop()
            if name not in done:
                done.add(name)
                order.append(name)
    return tuple(order)


_ACTIVATIONS = {
    "activation_tanh": torch.tanh,
    "activation_sigm": torch.sigmoid,
    "activation_leaky_relu": F.leaky_relu,
}


@dataclass(frozen=True)
class _LinearPlan:
    """Where each input of one linear node comes from."""

    name: str
    x_slot: int | None  # chunk index in the precomputed x projection (which also holds the bias)
    prev_slots: tuple[tuple[int, int], ...]  # (j, chunk index in the projection of h_prev_j)
    inner_inputs: tuple[tuple[str, str], ...]  # (input node, weight key)


class RecipeCell(nn.Module):
    """One recurrent layer whose step function is a NAS-Bench-NLP recipe."""

    def __init__(self, recipe, input_size: int, hidden_size: int, weight_drop: float = 0.0, *, device=None,
                 initialise: bool = True):
        """`device`: where the parameters are allocated; `initialise=False` leaves them uninitialised, for a caller
        that draws them itself."""
        super().__init__()
        self.recipe = recipe
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.weight_drop = weight_drop
        self.weights = nn.ParameterDict()
        self.biases = nn.ParameterDict()
        x_readers: list[str] = []
        prev_readers: dict[int, list[str]] = {j: [] for j in range(recipe.hidden_tuple_size)}
        self._x_keys: list[str] = []
        self._prev_keys: dict[int, list[str]] = {j: [] for j in prev_readers}
        plans = []
        for name in recipe.order:
            node = recipe.nodes[name]
            if node.op != "linear":
                continue
            x_slot, prev_slots, inner = None, [], []
            for position, source in enumerate(node.inputs):
                key = f"{name}__{position}"
                in_size = input_size if source == INPUT_X else hidden_size
                self.weights[key] = nn.Parameter(torch.empty(hidden_size, in_size, device=device))
                if source == INPUT_X and x_slot is None:
                    x_slot = len(x_readers)
                    x_readers.append(name)
                    self._x_keys.append(key)
                elif source.startswith("h_prev_"):
                    j = int(source.rsplit("_", 1)[1])
                    prev_slots.append((j, len(prev_readers[j])))
                    prev_readers[j].append(name)
                    self._prev_keys[j].append(key)
                else:  # an inner node, or a repeated x
                    inner.append((source, key))
            self.biases[name] = nn.Parameter(torch.empty(hidden_size, device=device))
            plans.append(_LinearPlan(name, x_slot, tuple(prev_slots), tuple(inner)))
        self._plans = {plan.name: plan for plan in plans}
        self._x_bias_names = x_readers
        if initialise:
            self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            nn.init.uniform_(param, -bound, bound)

    def hidden_weight_keys(self) -> list[str]:
        """Keys of the weights that read a hidden vector (h_prev_j or an inner node), not `x`.

        These are the weights NAS-Bench-NLP wraps in its weight drop (every input of a `linear`
        other than `x`); see tfnas.search_spaces.nas_bench_nlp.trainer for why its training leaves them at their
        initial values.
        """
        keys = [k for j in sorted(self._prev_keys) for k in self._prev_keys[j]]
        for plan in self._plans.values():
            keys.extend(key for source, key in plan.inner_inputs if source != INPUT_X)
        return keys

    def init_state(self, batch_size: int, device=None, dtype=None) -> tuple[torch.Tensor, ...]:
        device = device or next(iter(self.biases.values())).device
        return tuple(
            torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype)
            for _ in range(self.recipe.hidden_tuple_size)
        )

    def _maybe_drop(self, weight: torch.Tensor) -> torch.Tensor:
        if self.training and self.weight_drop > 0:
            return F.dropout(weight, p=self.weight_drop, training=True)
        return weight

    def forward(
        self, inputs: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None, record: list | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Run the cell over `inputs` (T x B x input_size); return outputs (T x B x hidden) and the last state.

        A scan of `step` over time (or of its compiled form, after `compile_step`). If `record` is a list, the
        value of every node at every step is appended to it as a dict (used by metrics that look inside the cell).
        """
        steps, batch, _ = inputs.shape
        if state is None:
            state = self.init_state(batch, inputs.device, inputs.dtype)
        x_chunks: list = [None] * steps
        if self._x_keys:
            w_x = torch.cat([self.weights[k] for k in self._x_keys], 0)
            b_x = torch.cat([self.biases[n] for n in self._x_bias_names], 0)
            x_proj = torch.addmm(b_x, inputs.reshape(steps * batch, -1), w_x.t())
            # unbind (not indexing) per step and node: its backward stacks all slices once, where
            # indexing would allocate and zero a full T x B x n x H gradient for every slice.
            x_chunks = [step.unbind(1) for step in x_proj.view(steps, batch, len(self._x_keys), self.hidden_size).unbind(0)]
        w_prev = {
            j: self._maybe_drop(torch.cat([self.weights[k] for k in keys], 0)).t()
            for j, keys in self._prev_keys.items()
            if keys
        }
        inner_weights = {
            key: self._maybe_drop(self.weights[key]).t()
            for plan in self._plans.values()
            for _, key in plan.inner_inputs
        }
        step = self._compiled_step or self.step
        outputs = []
        for x, chunks in zip(inputs.unbind(0), x_chunks):  # x: read directly only by a linear that lists x twice
            env = step(x, chunks, state, w_prev, inner_weights)
            state = tuple(env[h_new(j)] for j in range(self.recipe.hidden_tuple_size))
            outputs.append(state[0])
            if record is not None:
                record.append(env)
        return torch.stack(outputs), state

    _compiled_step = None

    def compile_step(self, mode: str | None = "default") -> None:
        """Run `step` through torch.compile from now on (None: eagerly again).

        One time step is a chain of small kernels (a GEMM per hidden input, then every node's elementwise op); the
        compiler fuses the elementwise chains between the GEMMs. "default" mode: CUDA graphs ("reduce-overhead")
        would record one graph per call site of the unrolled sequence and per truncated-BPTT length, and replaying
        a step overwrites the outputs of the previous replay, which backward still needs.
        """
        self._compiled_step = None if mode is None else torch.compile(self.step, mode=mode, dynamic=False)

    def step(self, x: torch.Tensor, x_chunks, state: tuple[torch.Tensor, ...], w_prev: dict, inner_weights: dict) -> dict:
        """One time step: the value of every node (and of x and each h_prev_j) by name, from the step's input `x`
        (B x input_size), its x projection chunks, the previous state and the (weight-dropped, transposed) weights."""
        batch, hidden = x.size(0), self.hidden_size
        env: dict[str, torch.Tensor] = {h_prev(j): s for j, s in enumerate(state)}
        env[INPUT_X] = x
        prev_proj = {j: (env[h_prev(j)] @ w).view(batch, -1, hidden).unbind(1) for j, w in w_prev.items()}
        recipe = self.recipe
        for name in recipe.order:
            node = recipe.nodes[name]
            if node.op == "linear":
                env[name] = self._linear(self._plans[name], env, x_chunks, prev_proj, inner_weights)
            elif node.op in _ACTIVATIONS:
                env[name] = _ACTIVATIONS[node.op](env[node.inputs[0]])
            elif node.op == "elementwise_sum":
                env[name] = env[node.inputs[0]] + env[node.inputs[1]]
            elif node.op == "elementwise_prod":
                env[name] = env[node.inputs[0]] * env[node.inputs[1]]
            else:  # blend
                a, b, c = (env[i] for i in node.inputs)
                env[name] = torch.lerp(c, b, a)  # a*b + (1-a)*c
        return env

    def _linear(self, plan: _LinearPlan, env, x_chunks, prev_proj, inner_weights) -> torch.Tensor:
        terms = []
        if plan.x_slot is not None:
            terms.append(x_chunks[plan.x_slot])
        else:
            terms.append(self.biases[plan.name])
        terms.extend(prev_proj[j][slot] for j, slot in plan.prev_slots)
        acc = terms[0]
        for term in terms[1:]:
            acc = acc + term
        for source, key in plan.inner_inputs:
            acc = torch.addmm(acc, env[source], inner_weights[key]) if acc.dim() == 2 else acc + env[source] @ inner_weights[key]
        return acc


class LockedDropout(nn.Module):
    """Dropout with one mask per sequence, shared over time steps (AWD-LSTM)."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        mask = x.new_empty(1, x.size(1), x.size(2)).bernoulli_(1 - self.p) / (1 - self.p)
        return x * mask
