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


class Rule:
    """A parsed rule; call it with a `describe()` dict to get True (keep) or False (prune)."""

    def __init__(self, text: str, field: str = "strategy.rule"):
        self.text = str(text).strip()
        self.field = field
        if not self.text:
            raise ConfigError(field, "the rule is empty; write a predicate such as 'num_layers == 4'")
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as err:
            raise ConfigError(field, f"cannot parse rule {self.text!r}: {err.msg} at column {err.offset}") from None
        self._tree = tree.body
        self.names = sorted(self._check(self._tree))

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
            f"rule {self.text!r} uses {snippet!r} ({what}), which rules do not allow: use field names, numbers, "
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
                f"rule {self.text!r} names unknown field(s) {', '.join(unknown)}; the fields{where} are: "
                f"{', '.join(fields) or '(none: the space describes no fields)'}",
            )

    def __call__(self, fields: Mapping[str, Any]) -> bool:
        return bool(self._eval(self._tree, fields))

    def _eval(self, node: ast.AST, env: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.Name):
            if node.id not in env:
                raise ConfigError(self.field, f"rule {self.text!r}: the architecture has no field {node.id!r}")
            return env[node.id]
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                return all(self._eval(v, env) for v in node.values)
            return any(self._eval(v, env) for v in node.values)
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](self._eval(node.operand, env))
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](self._eval(node.left, env), self._eval(node.right, env))
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, env)
            for op, comparator in zip(node.ops, node.comparators):
                right = self._eval(comparator, env)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(self._eval(e, env) for e in node.elts)
        raise AssertionError(f"unchecked node {type(node).__name__}")  # _check refused it already

    def __repr__(self) -> str:
        return f"Rule({self.text!r})"
