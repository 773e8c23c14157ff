"""Several architectures' recurrent cells run as one: a pack.

Scoring one NAS-Bench-NLP cell on a GPU is bound by kernel launches, not arithmetic: every node of the cell is
a small kernel at every time step. A pack runs the cells of N architectures together, level by level of their
node graphs: at each time step, all nodes of all N cells that sit at the same depth and apply the same op are
one kernel over their stacked inputs (the linear nodes' products one batched GEMM per input position), so a
step costs about (depth x ops) launches whatever N is.

Each cell computes what `RecipeCell.forward` computes, in the same order of operations: per cell, the
projection of `x` for all steps is the same `addmm`; each linear node starts from that projection (or its
bias), adds its `h_prev` products in input order, then its inner-node products (fused as the cell fuses them,
`baddbmm` where the cell uses `addmm`). Batched products are the same per-matrix GEMMs, so on the CPU the
outputs equal a cell run alone bit for bit (tests/unit/search_spaces/nas_bench_nlp/test_rnn_pack.py);
backward passes differ in rounding only (gradients reaching one tensor from several readers are summed in
another order).

Evaluation mode only (no dropout, no weight drop): this is the scorers' path, not training's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from tfnas.search_spaces.nas_bench_nlp.recipe import ACTIVATIONS, INPUT_X, h_new, h_prev

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
class _Terms:
    """One batched term of a level's linear nodes: their term number `rank` of one kind."""

    rows: list[int]  # which of the level's linear nodes
    sources: list[int]  # the slot each adds (a chunk of an h_prev product) or multiplies
    weights: list[tuple[int, str]] | None  # (member, weight key) of each product; None: add the source as it is
    fused: bool = False  # the cell fuses this product into its accumulator (addmm)


@dataclass
class _Linears:
    out: list[int]
    bases: list[tuple[int, str, int | None]]  # (member, node, chunk of the x projection or None: the bias)
    terms: list[_Terms] = field(default_factory=list)


@dataclass
class _Elementwise:
    op: str
    out: list[int]
    operands: list[list[int]]  # per operand position, the slot of each node


@dataclass
class _HiddenProducts:
    """The products of h_prev_j with the weights of all its readers, for every (member, j) with `width` readers:
    one GEMM per (member, j) as the cell computes it, batched."""

    width: int
    entries: list[tuple[int, int]]  # (member, j)
    sources: list[int]  # h_prev_j's slot
    out: list[list[int]]  # per entry, the slot of each reader's chunk


class PackSchedule:
    """The slots and per-level groups of N cells' recipes; the same for every layer of the N models.

    Built from each member's first-layer `RecipeCell` (its plans say which weight multiplies what). Slots number
    every value of one time step: per member its input x, its h_prev_j, the chunks of the h_prev products and
    every node's output.
    """

    def __init__(self, cells):
        self.recipes = [cell.recipe for cell in cells]
        self.slot: list[dict] = []
        count = 0
        for cell in cells:
            chunks = [("prev", j, r) for j, keys in cell._prev_keys.items() for r in range(len(keys))]
            names = [INPUT_X] + [h_prev(j) for j in range(cell.recipe.hidden_tuple_size)] + chunks + list(cell.recipe.order)
            self.slot.append({name: count + i for i, name in enumerate(names)})
            count += len(names)
        self.size = count
        by_width: dict[int, _HiddenProducts] = {}
        for member, cell in enumerate(cells):
            for j, keys in cell._prev_keys.items():
                if keys:
                    group = by_width.setdefault(len(keys), _HiddenProducts(len(keys), [], [], []))
                    group.entries.append((member, j))
                    group.sources.append(self.slot[member][h_prev(j)])
                    group.out.append([self.slot[member][("prev", j, r)] for r in range(len(keys))])
        self.hidden_products = [by_width[w] for w in sorted(by_width)]
        levels: dict[int, list[tuple[int, str]]] = {}
        for member, recipe in enumerate(self.recipes):
            depth: dict[str, int] = {}
            for name in recipe.order:
                depth[name] = 1 + max((depth.get(i, 0) for i in recipe.nodes[name].inputs), default=0)
                levels.setdefault(depth[name], []).append((member, name))
        self.levels = [self._groups(levels[d], cells) for d in sorted(levels)]

    def _groups(self, nodes: list[tuple[int, str]], cells) -> list:
        by_op: dict[str, list[tuple[int, str]]] = {}
        for member, name in nodes:
            by_op.setdefault(self.recipes[member].nodes[name].op, []).append((member, name))
        groups: list = []
        for op, members in sorted(by_op.items(), key=lambda item: _GROUP_ORDER[item[0]]):
            out = [self.slot[m][n] for m, n in members]
            if op == "linear":
                groups.append(self._linears(members, out, cells))
            else:
                inputs = [self.recipes[m].nodes[n].inputs for m, n in members]
                operands = [[self.slot[m][ins[k]] for (m, _), ins in zip(members, inputs)] for k in range(len(inputs[0]))]
                groups.append(_Elementwise(op, out, operands))
        return groups

    def _linears(self, members: list[tuple[int, str]], out: list[int], cells) -> _Linears:
        """The cell's order of a linear node's terms: the x projection or the bias, its h_prev chunks, then its
        products with inner nodes (and a repeated x), fused once the accumulator is B x H."""
        group = _Linears(out, [])
        batched: dict[tuple, _Terms] = {}
        for row, (member, name) in enumerate(members):
            plan = cells[member]._plans[name]
            group.bases.append((member, name, plan.x_slot))
            terms = [(("prev", j, r), None, False) for j, r in plan.prev_slots]
            accumulated = plan.x_slot is not None or bool(plan.prev_slots)
            terms += [(source, key, accumulated or i > 0) for i, (source, key) in enumerate(plan.inner_inputs)]
            for rank, (source, key, fused) in enumerate(terms):
                kind = (rank, key is not None, fused, source == INPUT_X)
                entry = batched.setdefault(kind, _Terms([], [], [] if key is not None else None, fused))
                entry.rows.append(row)
                entry.sources.append(self.slot[member][source])
                if key is not None:
                    entry.weights.append((member, key))
        group.terms = [batched[k] for k in sorted(batched)]
        return group


def _x_chunks(cells, inputs) -> list:
    """Per member, the cell's projection of x for all steps, as `RecipeCell.forward` computes it: [t][chunk]."""
    out = []
    for cell, x in zip(cells, inputs):
        if not cell._x_keys:
            out.append(None)
            continue
        steps, batch, _ = x.shape
        w_x = torch.cat([cell.weights[k] for k in cell._x_keys], 0)
        b_x = torch.cat([cell.biases[n] for n in cell._x_bias_names], 0)
        projection = torch.addmm(b_x, x.reshape(steps * batch, -1), w_x.t())
        out.append(projection.view(steps, batch, len(cell._x_keys), cell.hidden_size))
    return out


def _bases(group: _Linears, cells, chunks, steps: int, batch: int) -> tuple[torch.Tensor, ...]:
    """Per step, n x B x H: each linear node's starting value (its x projection chunk, or its bias). Unbound, not
    indexed, per step: the backward then stacks the steps' gradients once instead of zero-filling T x n x B x H
    for every step."""
    parts = []
    for member, name, x_slot in group.bases:
        cell = cells[member]
        if x_slot is None:
            parts.append(cell.biases[name].expand(steps, batch, cell.hidden_size))
        else:
            parts.append(chunks[member][:, :, x_slot])
    if len(parts) == 1:
        return parts[0].unsqueeze(1).unbind(0)
    return torch.stack(parts, 1).unbind(0)


def _prepared(schedule: PackSchedule, cells, inputs) -> list:
    """The weights of each group stacked once per layer, each linear group's bases for all steps."""
    steps, batch = inputs[0].shape[:2]
    device = inputs[0].device
    chunks = _x_chunks(cells, inputs)
    work: list = []
    for group in schedule.hidden_products:
        weights = [torch.cat([cells[m].weights[k] for k in cells[m]._prev_keys[j]], 0).t() for m, j in group.entries]
        work.append((group, torch.stack(weights), None, None))
    for level in schedule.levels:
        for group in level:
            if isinstance(group, _Linears):
                weights = [None if t.weights is None else torch.stack([cells[m].weights[k].t() for m, k in t.weights])
                           for t in group.terms]
                rows = [torch.tensor(t.rows, device=device) for t in group.terms]
                work.append((group, weights, _bases(group, cells, chunks, steps, batch), rows))
            else:
                work.append((group, None, None, None))
    return work


def run_layer(schedule: PackSchedule, cells, inputs, record: bool = False):
    """Run one layer of every member from the zero state: `cells[i]` (a RecipeCell in eval mode) on `inputs[i]`
    (T x B x in). Returns per member its outputs (T x B x H), its last state and, with `record`, one dict per
    step of every node's value (else None)."""
    if any(cell.training for cell in cells):
        raise ValueError("a pack runs cells in evaluation mode only")
    steps, batch = inputs[0].shape[:2]
    work = _prepared(schedule, cells, inputs)
    env: list = [None] * schedule.size
    for member, cell in enumerate(cells):
        zero = torch.zeros(batch, cell.hidden_size, device=inputs[0].device, dtype=inputs[0].dtype)
        for j in range(schedule.recipes[member].hidden_tuple_size):
            env[schedule.slot[member][h_prev(j)]] = zero
    outputs: list[list] = [[] for _ in cells]
    logs = [[] for _ in cells] if record else None
    steps_of = [x.unbind(0) for x in inputs]  # read by a linear listing x twice (unbound: see _bases)
    for t in range(steps):
        for member, x in enumerate(steps_of):
            env[schedule.slot[member][INPUT_X]] = x[t]
        for group, weights, bases, rows in work:
            if isinstance(group, _HiddenProducts):
                _hidden_products(group, env, weights)
            elif isinstance(group, _Linears):
                _linears(group, env, weights, bases[t], rows)
            else:
                values = _ELEMENTWISE[group.op](*(_gather(env, slots) for slots in group.operands))
                env_set(env, group.out, values.unbind(0))
        _advance(schedule, env, outputs, logs)
    states = [tuple(env[schedule.slot[m][h_prev(j)]] for j in range(r.hidden_tuple_size)) for m, r in enumerate(schedule.recipes)]
    return [torch.stack(out) for out in outputs], states, logs


def _gather(env: list, slots: list[int]) -> torch.Tensor:
    """K x ... : the values of `slots`, stacked (a view when there is one)."""
    if len(slots) == 1:
        return env[slots[0]].unsqueeze(0)
    return torch.stack([env[s] for s in slots])


def env_set(env: list, slots: list[int], values) -> None:
    for slot, value in zip(slots, values):
        env[slot] = value


def _hidden_products(group: _HiddenProducts, env: list, weights: torch.Tensor) -> None:
    """h_prev_j @ [W_reader_1; W_reader_2; ...]^T per (member, j), split into one B x H chunk per reader."""
    products = torch.bmm(_gather(env, group.sources), weights)
    batch = products.size(1)
    for out, product in zip(group.out, products.unbind(0)):
        env_set(env, out, product.view(batch, group.width, -1).unbind(1))


def _linears(group: _Linears, env: list, weights, acc: torch.Tensor, rows) -> None:
    everyone = acc.size(0)
    for terms, matrices, index in zip(group.terms, weights, rows):
        sources = _gather(env, terms.sources)
        whole = len(terms.rows) == everyone  # every node of the group takes part: no gather
        if terms.fused:
            value = torch.baddbmm(acc if whole else acc.index_select(0, index), sources, matrices)
            acc = value if whole else acc.index_copy(0, index, value)
        else:
            value = sources if matrices is None else torch.bmm(sources, matrices)
            acc = acc + value if whole else acc.index_add(0, index, value)
    env_set(env, group.out, acc.unbind(0))


def _advance(schedule: PackSchedule, env: list, outputs: list, logs: list | None) -> None:
    """End of a step: every member's outputs, its h_new_j as the next step's h_prev_j, and the step's record."""
    for member, recipe in enumerate(schedule.recipes):
        slot = schedule.slot[member]
        new = [env[slot[h_new(j)]] for j in range(recipe.hidden_tuple_size)]
        outputs[member].append(new[0])
        if logs is not None:
            logs[member].append({name: env[slot[name]] for name in recipe.order})
        for j, value in enumerate(new):
            env[slot[h_prev(j)]] = value


def activation_names(recipe) -> list[str]:
    return [n for n in recipe.order if recipe.nodes[n].op in ACTIVATIONS]
