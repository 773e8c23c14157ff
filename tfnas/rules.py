"""Qualitative pruning rules: predicates over an architecture's `describe()` fields.

A rule is a Python-like boolean expression such as ``num_layers == 4 and hidden_size >= 256``
or ``hidden_tuple_size in (1, 2) and not num_blend > 1``. It is parsed with `ast` and then
interpreted by a small whitelist -- names (the fields), literals, comparisons, `and`/`or`/`not`,
arithmetic, tuples/lists -- so a rule can never run arbitrary code (no calls, attributes,
subscripts or comprehensions).
"""
from __future__ import annotations

import ast
import operator
from typing import Any, Iterable, Mapping

from tfnas.errors import ConfigError

_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_UNARY = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}

# Bounds on what a rule may compute, so that no rule can hang the search or fill the memory
# ('10**10**10', '"a"*10**9'): describe() fields are small counts and sizes.
MAX_MAGNITUDE = 10**15   # largest absolute number a rule may produce
MAX_EXPONENT = 64        # largest exponent of **
MAX_LENGTH = 1000        # longest string or tuple a rule may build (repetition, concatenation)
MAX_TEXT = 2000          # longest rule text
MAX_NODES = 200          # most syntax nodes in a rule


class _Refused(Exception):
    """A value outside the bounds above (turned into a ConfigError naming the rule)."""


def _bounded(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        if value != value or abs(value) > MAX_MAGNITUDE:  # NaN or too large
            raise _Refused(f"a value of magnitude above {MAX_MAGNITUDE:.0e}")
        return value
    if isinstance(value, (str, tuple)) and len(value) > MAX_LENGTH:
        raise _Refused(f"a string or tuple longer than {MAX_LENGTH}")
    return value


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, tuple)) else None


def _binary(op: type, left: Any, right: Any) -> Any:
    """One arithmetic step, refusing before computing anything that would break the bounds."""
    if op is ast.Pow:
        if isinstance(right, (int, float)) and not isinstance(right, bool) and abs(right) > MAX_EXPONENT:
            raise _Refused(f"an exponent above {MAX_EXPONENT}")
    if op is ast.Mod and isinstance(left, str):
        raise _Refused("string formatting ('%')")
    if op is ast.Mult:
        for seq, times in ((left, right), (right, left)):
            if _length(seq) is not None and isinstance(times, int) and _length(seq) * max(times, 0) > MAX_LENGTH:
                raise _Refused(f"a repetition longer than {MAX_LENGTH}")
    if op is ast.Add and _length(left) is not None and _length(right) is not None and len(left) + len(right) > MAX_LENGTH:
        raise _Refused(f"a string or tuple longer than {MAX_LENGTH}")
    result = _BINARY[op](left, right)
    if isinstance(result, complex):
        raise _Refused("a complex number")
    return _bounded(result)


class Rule:
    """A parsed rule; call it with a `describe()` dict to get True (keep) or False (prune)."""

    def __init__(self, text: str, field: str = "strategy.rule"):
        self.text = str(text).strip()
        self.field = field
        if not self.text:
            raise ConfigError(field, "the rule is empty; write a predicate such as 'num_layers == 4'")
        if len(self.text) > MAX_TEXT:  # before parsing: Python's parser is not built for hostile lengths
            raise ConfigError(field, f"the rule is {len(self.text):,} characters long; at most {MAX_TEXT:,} are allowed")
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as err:
            raise ConfigError(field, f"cannot parse rule {self._short()}: {err.msg} at column {err.offset}") from None
        except (RecursionError, MemoryError, ValueError) as err:  # nesting too deep for the parser; a NUL byte
            why = str(err).splitlines()[0] if str(err).strip() else type(err).__name__
            raise ConfigError(field, f"cannot parse rule {self._short()}: {why}; write a flatter predicate") from None
        self._tree = tree.body
        if sum(1 for _ in ast.walk(self._tree)) > MAX_NODES:
            raise ConfigError(field, f"rule {self._short()} has more than {MAX_NODES} parts; write a shorter predicate")
        self.names = sorted(self._check(self._tree))
        self._fold(self._tree)

    def _short(self) -> str:
        return repr(self.text if len(self.text) <= 120 else self.text[:117] + "...")

    def _fold(self, node: ast.AST) -> None:
        """Compute every part that reads no field now, so a constant out of bounds ('10**10**10', '"a"*10**9')
        or a division by zero is refused when the rule is parsed, not while the search runs."""
        if isinstance(node, ast.Name):
            return
        if not any(isinstance(n, ast.Name) for n in ast.walk(node)):
            self._eval(node, {})
            return
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)):
            if not any(isinstance(n, ast.Name) for n in ast.walk(node.right)) and self._eval(node.right, {}) == 0:
                raise self._error(ZeroDivisionError())
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self._fold(child)

    def _check(self, node: ast.AST) -> set[str]:
        """Refuse any syntax outside the whitelist; return the field names the rule reads."""
        if isinstance(node, ast.Name):
            return {node.id}
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, float, str, bool)) and node.value is not None:
                raise self._bad(node, f"literal {node.value!r}")
            return set()
        if isinstance(node, ast.BoolOp):
            return set().union(*(self._check(v) for v in node.values))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return self._check(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return self._check(node.left) | self._check(node.right)
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            return self._check(node.left).union(*(self._check(c) for c in node.comparators))
        if isinstance(node, (ast.Tuple, ast.List)):
            return set().union(set(), *(self._check(e) for e in node.elts))
        raise self._bad(node, type(node).__name__)

    def _bad(self, node: ast.AST, what: str) -> ConfigError:
        snippet = ast.get_source_segment(self.text, node) or what
        return ConfigError(
            self.field,
            f"rule {self._short()} uses {snippet!r} ({what}), which rules do not allow: use field names, numbers, "
            "strings, comparisons (== != < <= > >= in, not in), and/or/not, + - * / and tuples",
        )

    def check_fields(self, fields: Iterable[str], space_name: str = "") -> None:
        """Raise ConfigError naming each unknown name and the fields the space describes."""
        fields = sorted(fields)
        unknown = [n for n in self.names if n not in fields]
        if unknown:
            where = f" of space {space_name!r}" if space_name else ""
            raise ConfigError(
                self.field,
                f"rule {self._short()} names unknown field(s) {', '.join(unknown)}; the fields{where} are: "
                f"{', '.join(fields) or '(none: the space describes no fields)'}",
            )

    def __call__(self, fields: Mapping[str, Any]) -> bool:
        return bool(self._eval(self._tree, fields))

    def _error(self, err: Exception) -> ConfigError:
        if isinstance(err, _Refused):
            why = f"computes {err}, which rules do not allow"
        elif isinstance(err, ZeroDivisionError):
            why = "divides by zero"
        else:
            why = f"mixes values that do not go together ({type(err).__name__}: {str(err)[:200]})"
        return ConfigError(self.field, f"rule {self._short()} {why}; fix the rule")

    def _eval(self, node: ast.AST, env: Mapping[str, Any]) -> Any:
        try:
            return self._step(node, env)
        except (_Refused, ZeroDivisionError, TypeError, OverflowError, ValueError) as err:
            if isinstance(err, ConfigError):
                raise
            raise self._error(err) from None

    def _step(self, node: ast.AST, env: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.Name):
            if node.id not in env:
                raise ConfigError(self.field, f"rule {self._short()}: the architecture has no field {node.id!r}")
            return _bounded(env[node.id])
        if isinstance(node, ast.Constant):
            return _bounded(node.value)
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                return all(self._step(v, env) for v in node.values)
            return any(self._step(v, env) for v in node.values)
        if isinstance(node, ast.UnaryOp):
            return _bounded(_UNARY[type(node.op)](self._step(node.operand, env)))
        if isinstance(node, ast.BinOp):
            return _binary(type(node.op), self._step(node.left, env), self._step(node.right, env))
        if isinstance(node, ast.Compare):
            left = self._step(node.left, env)
            for op, comparator in zip(node.ops, node.comparators):
                right = self._step(comparator, env)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, (ast.Tuple, ast.List)):
            return _bounded(tuple(self._step(e, env) for e in node.elts))
        raise AssertionError(f"unchecked node {type(node).__name__}")  # _check refused it already

    def __repr__(self) -> str:
        return f"Rule({self.text!r})"
