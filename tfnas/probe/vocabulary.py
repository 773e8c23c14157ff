"""The grammar of needs, and the registry every need kind is declared in once.

A *need* is a string: a plain kind (``jacobian``) or a kind with one argument (``hidden:2``,
``jacobian_noise:10.0``, ``lm_hessian:2``). A `NeedKind` declares the kind's name, the typed Protocol
of the probe methods it guarantees, and, if it takes one, its `Argument`: the type, the bounds, the
config field an error names, and the default of the bare kind. Metrics build their needs through the
declaration (`HIDDEN.need(layer)`), spaces read parsed arguments from it (`arguments(needs, HIDDEN)`),
and `check_needs` refuses a bad one with a ConfigError before a search writes anything.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Protocol

from tfnas.errors import ConfigError


@dataclass(frozen=True)
class Argument:
    """The argument of `kind:ARG`: an int or a float, within [low, high] where given.

    `field`: the config option an error names (the metric's option that sets it); `what`: how the
    error describes a valid value; `default`: the value of the bare kind (None: the argument is
    required); `one_per_probe`: metrics sharing one probe must agree on the value.
    """

    name: str
    type: type
    field: str
    what: str
    low: float | None = None
    high: float | None = None
    default: Any = None
    one_per_probe: bool = False

    def validate(self, value: Any) -> Any:
        """`value` as this argument's type, or ConfigError naming the field."""
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not numeric or (self.type is int and not isinstance(value, int)) or (self.type is float and not math.isfinite(value)):
            raise ConfigError(self.field, f"must be {self.what}, got {value!r}")
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ConfigError(self.field, f"must be {self.what}, got {value!r}")
        return self.type(value)

    def parse(self, text: str | None) -> Any:
        """The value written after the colon (None: the bare kind, i.e. the default)."""
        if text is None:
            if self.default is None:
                raise ConfigError(self.field, f"must be {self.what}; the need has no value")
            return self.default
        try:
            value = self.type(text)
        except ValueError:
            raise ConfigError(self.field, f"must be {self.what}, got {text!r}") from None
        return self.validate(value)

    def spell(self, value: Any) -> str:
        """The one canonical spelling of a value (so equal values are equal needs)."""
        return repr(self.validate(value))


@dataclass(frozen=True)
class NeedKind:
    """One kind of the vocabulary: what a metric may ask a probe for."""

    name: str
    protocol: type
    description: str
    argument: Argument | None = None

    def need(self, value: Any = None) -> str:
        """The need string: the bare kind, or `kind:value` in its canonical spelling."""
        if self.argument is None or value is None:
            return self.name
        return f"{self.name}:{self.argument.spell(value)}"

    def methods(self) -> tuple[str, ...]:
        """The probe methods this kind guarantees (its Protocol's, inherited ones included)."""
        return protocol_methods(self.protocol)


def protocol_methods(protocol: type) -> tuple[str, ...]:
    names: list[str] = []
    for cls in protocol.__mro__:
        if cls in (object, Protocol) or not getattr(cls, "_is_protocol", False):
            continue
        names += [n for n, v in vars(cls).items() if callable(v) and not n.startswith("_") and n not in names]
    return tuple(names)


#: every need kind, by name; `declare` adds one
NEEDS: dict[str, NeedKind] = {}


def declare(kind: NeedKind) -> NeedKind:
    """Add a kind to the vocabulary (a name is declared once)."""
    if kind.name in NEEDS and NEEDS[kind.name] != kind:
        raise ValueError(f"need kind {kind.name!r} is declared twice")
    NEEDS[kind.name] = kind
    return kind


def need_kind(need: str) -> str:
    """`hidden:2` -> `hidden`; a plain need is its own kind."""
    return need.split(":", 1)[0]


def need_argument(need: str) -> str | None:
    return need.split(":", 1)[1] if ":" in need else None


def arguments(needs: Iterable[str], kind: NeedKind) -> set:
    """The parsed arguments of `kind` among `needs` (ConfigError for a bad one)."""
    values = {kind.argument.parse(need_argument(n)) for n in needs if need_kind(n) == kind.name}
    if kind.argument.one_per_probe and len(values) > 1:
        raise ConfigError(kind.argument.field, f"metrics sharing one probe must use one value, got {sorted(values)}; "
                                               "score them in separate runs")
    return values


def single_argument(needs: Iterable[str], kind: NeedKind) -> Any:
    """The one value of a one-per-probe kind among `needs`, or None when it is not asked for."""
    values = arguments(needs, kind)
    return values.pop() if values else None


def unserved(needs: Iterable[str], provides: Iterable[str]) -> list[str]:
    """The needs whose kind the provider does not serve."""
    served = set(provides)
    return sorted(n for n in needs if need_kind(n) not in served)


def check_served(needs: Iterable[str], provides: Iterable[str], space_name: str, field: str = "metric") -> None:
    missing = unserved(needs, provides)
    if missing:
        raise ConfigError(
            field, f"space {space_name!r} cannot provide {', '.join(missing)}; it provides {', '.join(sorted(provides)) or 'nothing'}"
        )


def check_needs(needs: Iterable[str], provides: Iterable[str], space_name: str) -> None:
    """Every need served by `provides`, and every argument well formed (ConfigError naming the option)."""
    needs = set(needs)
    check_served(needs, provides, space_name)
    for name in sorted({need_kind(n) for n in needs}):
        kind = NEEDS.get(name)
        if kind is None:
            raise ConfigError("metric", f"unknown need kind {name!r}; the vocabulary has {', '.join(sorted(NEEDS))}")
        if kind.argument is not None:
            arguments(needs, kind)
        elif any(need_argument(n) is not None for n in needs if need_kind(n) == name):
            raise ConfigError("metric", f"need {name!r} takes no argument")
