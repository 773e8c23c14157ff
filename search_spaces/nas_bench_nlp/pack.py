"""Several architectures' recurrent cells run as one: a pack.

Scoring one NAS-Bench-NLP cell on a GPU is bound by kernel launches, not arithmetic: every node of the cell is a
small kernel at every time step. A pack runs the cells of N architectures together, level by level of their node
graphs: at each time step, all linear nodes of all N cells at one depth are one gather, one batched GEMM and one
add per term position, and all nodes applying one elementwise op at that depth are one gather and one kernel, so a
step costs about (depth x ops) launches whatever N is. Every projection of the cell input x (a linear's x term, also a repeated
one) is computed for all steps at once, one GEMM per cell and layer, as `RecipeCell.forward` does.

A linear node's value is its x projection (or its bias) plus its other terms W_k @ input_k, added in input order.
The groups run in one fixed order (depth,
then op, then member, then the recipe's order), so each member's operations are created, and their gradients
summed, in an order that does not depend on the other members: on the CPU a cell gives the same values bit for
bit alone or in a pack of any size. Against `RecipeCell.forward` (which adds a linear's terms one by one) the
values agree to float rounding (tests/unit/search_spaces/nas_bench_nlp/test_rnn_pack.py).

Evaluation mode only (no dropout, no weight drop): this is the scorers' path, not training's.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from tfnas.search_spaces.nas_bench_nlp.recipe import INPUT_X, h_new, h_prev

#: the cell's elementwise ops, in the fixed order a level runs its groups (after its linear nodes)
_ELEMENTWISE = {
    "activation_tanh": torch.tanh,
    "activation_sigm": lambda x: _vector_loop(torch.sigmoid, x),
    "activation_leaky_relu": F.leaky_relu,
    "elementwise_sum": torch.add,
    "elementwise_prod": torch.mul,
    "blend": lambda a, b, c: torch.lerp(c, b, a),  # a*b + (1-a)*c, as the cell computes it
}
_GROUP_ORDER = {op: rank for rank, op in enumerate(["linear", *_ELEMENTWISE])}
_CPU_VECTOR = 64  # elements; a multiple of twice every CPU vector width torch uses (AVX-512: 2 x 16 floats)


def _vector_loop(fn, x: torch.Tensor) -> torch.Tensor:
    """`fn(x)` with every element computed by torch's vectorised CPU loop. That loop leaves a tensor's last
    (numel mod 2 x vector width) elements to a scalar loop, and sigmoid's scalar and vector code round some
    values differently, so a value would depend on where it sits in the pack's stacked tensor: padding the
    end to a multiple of `_CPU_VECTOR` keeps it independent of the pack's size."""
    extra = -x.numel() % _CPU_VECTOR
    if x.device.type != "cpu" or not extra:
        return fn(x)
    return fn(F.pad(x.reshape(-1), (0, extra)))[: x.numel()].view(x.shape)


@dataclass
class _Linears:
    """The linear nodes of one depth, most terms first: their x projection chunks (or biases) and their other terms,
    listed by rank (every node's first term, then the second terms of the first `counts[1]` nodes, ...)."""

    out: list[int]
    bases: list[tuple[int, str, list[int]]]  # (member, node, its chunks of the member's x projection; [] = the bias)
    sources: list[int]  # per term, its input slot
    weights: list[tuple[int, str]]  # per term, (member, weight key)
    counts: list[int]  # per rank, how many nodes have a term of that rank (a prefix of the nodes)


@dataclass
class _Elementwise:
    op: str
    out: list[int]
    operands: list[list[int]]  # per operand position, the slot of each node


def _x_terms(recipe) -> dict[str, list[str]]:
    """Per linear node, the keys of its weights on x (the first one first), in input order."""
    return {name: [f"{name}__{p}" for p, s in enumerate(recipe.nodes[name].inputs) if s == INPUT_X]
            for name in recipe.order if recipe.nodes[name].op == "linear"}


class PackSchedule:
    """The slots and per-level groups of N recipes; the same for every layer of the N models.

    Slots number every value of one time step: per member its h_prev_j and every node's output.
    """

    def __init__(self, recipes):
        self.recipes = list(recipes)
        self.slot: list[dict[str, int]] = []
        count = 0
        for recipe in self.recipes:
            names = [h_prev(j) for j in range(recipe.hidden_tuple_size)] + list(recipe.order)
            self.slot.append({name: count + i for i, name in enumerate(names)})
            count += len(names)
        self.size = count
        #: per member, the slots of its h_new_j and h_prev_j (an end of step copies the first onto the second)
        self.new_slots = [[self.slot[m][h_new(j)] for j in range(r.hidden_tuple_size)] for m, r in enumerate(self.recipes)]
        self.prev_slots = [[self.slot[m][h_prev(j)] for j in range(r.hidden_tuple_size)] for m, r in enumerate(self.recipes)]
        #: per member, the weight keys of its x projection in chunk order, and the node whose bias each chunk adds
        #: (the linear's first x term carries its bias, as in the cell; a repeated x term none)
        self.x_terms = [_x_terms(r) for r in self.recipes]
        self.x_keys = [[k for keys in terms.values() for k in keys] for terms in self.x_terms]
        self.x_biases = [[name if i == 0 else None for name, keys in terms.items() for i in range(len(keys))]
                         for terms in self.x_terms]
        levels: dict[int, list[tuple[int, str]]] = {}
        for member, recipe in enumerate(self.recipes):
            depth: dict[str, int] = {}
            for name in recipe.order:
                depth[name] = 1 + max((depth.get(i, 0) for i in recipe.nodes[name].inputs), default=0)
                levels.setdefault(depth[name], []).append((member, name))
        self.levels = [self._groups(levels[d]) for d in sorted(levels)]

    def _groups(self, nodes: list[tuple[int, str]]) -> list:
        by_op: dict[str, list[tuple[int, str]]] = {}
        for member, name in nodes:
            by_op.setdefault(self.recipes[member].nodes[name].op, []).append((member, name))
        groups: list = []
        for op, members in sorted(by_op.items(), key=lambda item: _GROUP_ORDER[item[0]]):
            out = [self.slot[m][n] for m, n in members]
            if op == "linear":
                groups.append(self._linears(members, out))
            else:
                inputs = [self.recipes[m].nodes[n].inputs for m, n in members]
                operands = [[self.slot[m][ins[k]] for (m, _), ins in zip(members, inputs)] for k in range(len(inputs[0]))]
                groups.append(_Elementwise(op, out, operands))
        return groups

    def _linears(self, members: list[tuple[int, str]], out: list[int]) -> _Linears:
        """Nodes ordered by their number of terms (then member and recipe order, so each member's nodes keep one
        relative order in any pack); a node's terms in input order, x left to the projection."""
        nodes = []
        for member, name in members:
            keys = self.x_keys[member]
            xs = [keys.index(k) for k in self.x_terms[member][name]]
            inputs = self.recipes[member].nodes[name].inputs
            terms = [(self.slot[member][s], (member, f"{name}__{p}")) for p, s in enumerate(inputs) if s != INPUT_X]
            nodes.append((member, name, xs, terms, self.slot[member][name]))
        nodes.sort(key=lambda node: -len(node[3]))  # stable: member and recipe order within one count
        counts = [sum(len(node[3]) > rank for node in nodes) for rank in range(len(nodes[0][3]))]
        ranked = [node[3][rank] for rank in range(len(counts)) for node in nodes[: counts[rank]]]
        return _Linears([node[4] for node in nodes], [node[:3] for node in nodes], [s for s, _ in ranked],
                        [w for _, w in ranked], counts)


def _x_projections(schedule: PackSchedule, cells, inputs) -> list:
    """Per member, its k x terms for every step (each T x B x H, with the biases of the linears whose first input x is),
    one GEMM as `RecipeCell.forward` computes the first x terms."""
    out = []
    for member, (cell, x) in enumerate(zip(cells, inputs)):
        keys = schedule.x_keys[member]
        if not keys:
            out.append(None)
            continue
        steps, batch, _ = x.shape
        w_x = torch.cat([cell.weights[k] for k in keys], 0)
        zero = None
        biases = []
        for name in schedule.x_biases[member]:
            if name is None:
                zero = torch.zeros(cell.hidden_size, device=x.device, dtype=x.dtype) if zero is None else zero
            biases.append(zero if name is None else cell.biases[name])
        b_x = torch.cat(biases, 0)
        projection = torch.addmm(b_x, x.reshape(steps * batch, -1), w_x.t())
        out.append(projection.view(steps, batch, len(keys), cell.hidden_size).unbind(2))  # see _bases: unbind, not index
    return out


def _bases(group: _Linears, cells, projections, steps: int, batch: int) -> tuple[torch.Tensor, ...]:
    """Per step, n x B x H: each linear node's x terms (or its bias). Unbound, not indexed, per step: the backward
    then stacks the steps' gradients once instead of zero-filling T x n x B x H for every step."""
    parts = []
    for member, name, chunks in group.bases:
        cell = cells[member]
        if not chunks:
            parts.append(cell.biases[name].expand(steps, batch, cell.hidden_size))
            continue
        value = projections[member][chunks[0]]
        for extra in chunks[1:]:  # a linear listing x more than once
            value = value + projections[member][extra]
        parts.append(value)
    stacked = parts[0].unsqueeze(1) if len(parts) == 1 else torch.stack(parts, 1)
    return stacked.unbind(0)


def _prepared(schedule: PackSchedule, cells, inputs) -> list:
    """Per group, its stacked (transposed) weights and, for linear groups, its bases per step."""
    steps, batch = inputs[0].shape[:2]
    projections = _x_projections(schedule, cells, inputs)
    work: list = []
    for level in schedule.levels:
        for group in level:
            if isinstance(group, _Linears):
                weights = torch.stack([cells[m].weights[k].t() for m, k in group.weights])
                work.append((group, weights, _bases(group, cells, projections, steps, batch)))
            else:
                work.append((group, None, None))
    return work


def run_layer(schedule: PackSchedule, cells, inputs, record: bool = False):
    """Run one layer of every member from the zero state: `cells[i]` (a RecipeCell in eval mode) on `inputs[i]`
    (T x B x in). Returns per member its outputs (T x B x H), its last state and, with `record`, one dict per
    step of every node's value (else None)."""
    if any(cell.training for cell in cells):
        raise ValueError("a pack runs cells in evaluation mode only")
    steps, batch = inputs[0].shape[:2]
    work = _prepared(schedule, cells, inputs)
    zero = torch.zeros(batch, cells[0].hidden_size, device=inputs[0].device, dtype=inputs[0].dtype)
    env: list = [zero] * schedule.size  # the h_prev_j of the first step
    outputs: list[list] = [[] for _ in cells]
    logs = [[] for _ in cells] if record else None
    for t in range(steps):
        for group, weights, bases in work:
            if isinstance(group, _Linears):
                values = _linears(group, env, weights, bases[t])
            else:
                values = _ELEMENTWISE[group.op](*(_gather(env, slots) for slots in group.operands))
            for slot, value in zip(group.out, values.unbind(0)):
                env[slot] = value
        _advance(schedule, env, outputs, logs)
    states = [tuple(env[s] for s in prev) for prev in schedule.prev_slots]
    return [torch.stack(out) for out in outputs], states, logs


def _linears(group: _Linears, env: list, weights: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
    """n x B x H: every node's base plus its terms, added in input order (rank by rank, on a prefix of the nodes)."""
    first, *rest = torch.bmm(_gather(env, group.sources), weights).split(group.counts)  # split, not slices: one backward
    values = base + first
    for more in rest:
        count = more.size(0)
        values = values + more if count == len(values) else torch.cat([values[:count] + more, values[count:]])
    return values


def _gather(env: list, slots: list[int]) -> torch.Tensor:
    """K x ... : the values of `slots`, stacked (a view when there is one)."""
    if len(slots) == 1:
        return env[slots[0]].unsqueeze(0)
    return torch.stack([env[s] for s in slots])


def _advance(schedule: PackSchedule, env: list, outputs: list, logs: list | None) -> None:
    """End of a step: every member's outputs, its h_new_j as the next step's h_prev_j, and the step's record."""
    for member, (new_slots, prev_slots) in enumerate(zip(schedule.new_slots, schedule.prev_slots)):
        outputs[member].append(env[new_slots[0]])
        if logs is not None:
            slot = schedule.slot[member]
            logs[member].append({name: env[slot[name]] for name in schedule.recipes[member].order})
        for new, prev in zip(new_slots, prev_slots):
            env[prev] = env[new]
