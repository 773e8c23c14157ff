"""What a NAS-Bench-BERT (FlexiBERT-style) architecture is: parse, validate, hash, sample, mutate.

The choices come from the benchmark's own `search_space.json`, so the space and the table agree.
An architecture is written exactly as the benchmark's `model_hparam_overrides`:
``{"hidden_size": 256, "nas_config": {"encoder_layers": [{...}, ...]}}``.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from tfnas.errors import InvalidArchitecture
from tfnas.search_spaces.nas_bench_bert.shipped import data_path

LAYER_FIELDS = (
    "operation_type",
    "operation_parameter",
    "num_operation_heads",
    "feed_forward_dimension",
    "num_feed_forward",
)


@dataclass(frozen=True)
class Choices:
    """The values every field may take (from search_space.json)."""

    hidden_size: tuple[int, ...]
    num_encoder_layers: tuple[int, ...]
    operation_parameter: dict[str, tuple]  # operation_type -> its parameters
    num_operation_heads: tuple[int, ...]
    feed_forward_dimension: tuple[int, ...]
    num_feed_forward: tuple[int, ...]

    @property
    def operation_type(self) -> tuple[str, ...]:
        return tuple(self.operation_parameter)

    @property
    def operations(self) -> tuple[tuple[str, Any], ...]:
        """Every (operation_type, operation_parameter) pair, in a fixed order."""
        return tuple((t, p) for t, params in self.operation_parameter.items() for p in params)

    @property
    def layer_choices(self) -> int:
        return (
            len(self.operations)
            * len(self.num_operation_heads)
            * len(self.feed_forward_dimension)
            * len(self.num_feed_forward)
        )

    def size(self) -> int:
        """Number of architectures in the space (10,621,440 for the benchmark's)."""
        return len(self.hidden_size) * sum(self.layer_choices**n for n in self.num_encoder_layers)


@lru_cache(maxsize=1)
def benchmark_choices() -> Choices:
    with open(data_path("seed", "search_space.json"), encoding="utf-8") as handle:
        raw = json.load(handle)
    layer = raw["encoder_layer"]
    return Choices(
        hidden_size=tuple(raw["hidden_size"]),
        num_encoder_layers=tuple(raw["num_encoder_layers"]),
        operation_parameter={t: tuple(layer[t]) for t in layer["operation_type"]},
        num_operation_heads=tuple(layer["num_operation_heads"]),
        feed_forward_dimension=tuple(layer["feed_forward_dimension"]),
        num_feed_forward=tuple(layer["num_feed_forward"]),
    )


@dataclass(frozen=True)
class EncoderLayer:
    """One encoder layer: a token-mixing operation, then a feed-forward block."""

    operation_type: str
    operation_parameter: Any  # SA: SDP|WMA, LT: DFT|DCT, DSC: kernel size 5|9
    num_operation_heads: int
    feed_forward_dimension: int
    num_feed_forward: int

    @property
    def operation(self) -> str:
        """`SA/SDP`, `LT/DCT`, `DSC/5`, ..."""
        return f"{self.operation_type}/{self.operation_parameter}"


@dataclass(frozen=True)
class BertArch:
    """Hidden size shared by all layers plus the list of encoder layers."""

    hidden_size: int
    encoder_layers: tuple[EncoderLayer, ...]

    @property
    def num_layers(self) -> int:
        return len(self.encoder_layers)

    # -- the benchmark's JSON --------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "hidden_size": self.hidden_size,
            "nas_config": {"encoder_layers": [asdict(layer) for layer in self.encoder_layers]},
        }

    @classmethod
    def from_json(cls, data: Any, choices: Choices | None = None) -> "BertArch":
        """Parse `model_hparam_overrides` (or a whole benchmark entry, which holds it under hparams)."""
        if isinstance(data, str):
            data = json.loads(data)
        if not isinstance(data, dict):
            raise InvalidArchitecture(f"expected a JSON object with hidden_size and nas_config, got {type(data).__name__}")
        if "hparams" in data:
            data = data["hparams"].get("model_hparam_overrides", {})
        if "hidden_size" not in data:
            raise InvalidArchitecture("hidden_size: missing (expected e.g. {'hidden_size': 256, 'nas_config': {...}})")
        nas = data.get("nas_config")
        if not isinstance(nas, dict) or not isinstance(nas.get("encoder_layers"), list):
            raise InvalidArchitecture("nas_config.encoder_layers: missing or not a list of layer objects")
        layers = []
        for i, raw in enumerate(nas["encoder_layers"]):
            if not isinstance(raw, dict):
                raise InvalidArchitecture(f"encoder_layers[{i}]: expected an object, got {type(raw).__name__}")
            missing = [f for f in LAYER_FIELDS if f not in raw]
            if missing:
                raise InvalidArchitecture(f"encoder_layers[{i}]: missing field(s) {', '.join(missing)}")
            unknown = sorted(set(raw) - set(LAYER_FIELDS))
            if unknown:
                raise InvalidArchitecture(
                    f"encoder_layers[{i}]: unknown field(s) {', '.join(unknown)}; valid: {', '.join(LAYER_FIELDS)}"
                )
            param = raw["operation_parameter"]
            if raw["operation_type"] == "DSC" and isinstance(param, str) and param.isdigit():
                param = int(param)  # kernel sizes written as strings still name the same layer
            layers.append(EncoderLayer(**{**raw, "operation_parameter": param}))
        arch = cls(data["hidden_size"], tuple(layers))
        validate(arch, choices)
        return arch

    @property
    def hash(self) -> str:
        """Canonical hash: sha1 of the sorted-key JSON (equal JSON, equal network)."""
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha1(text.encode()).hexdigest()[:16]


def validate(arch: BertArch, choices: Choices | None = None) -> None:
    """Raise InvalidArchitecture naming the layer and field that break the space's rules."""
    c = choices or benchmark_choices()

    def check(field: str, value: Any, allowed: Sequence) -> None:
        if isinstance(value, bool) or value not in allowed:
            raise InvalidArchitecture(f"{field}: {value!r} is not allowed; valid choices: {list(allowed)}")

    check("hidden_size", arch.hidden_size, c.hidden_size)
    if len(arch.encoder_layers) not in c.num_encoder_layers:
        raise InvalidArchitecture(
            f"encoder_layers: {len(arch.encoder_layers)} layers; the space allows {list(c.num_encoder_layers)}"
        )
    for i, layer in enumerate(arch.encoder_layers):
        where = f"encoder_layers[{i}]"
        check(f"{where}.operation_type", layer.operation_type, c.operation_type)
        check(
            f"{where}.operation_parameter (for {layer.operation_type})",
            layer.operation_parameter,
            c.operation_parameter[layer.operation_type],
        )
        check(f"{where}.num_operation_heads", layer.num_operation_heads, c.num_operation_heads)
        check(f"{where}.feed_forward_dimension", layer.feed_forward_dimension, c.feed_forward_dimension)
        check(f"{where}.num_feed_forward", layer.num_feed_forward, c.num_feed_forward)
        if arch.hidden_size % layer.num_operation_heads:
            raise InvalidArchitecture(
                f"{where}.num_operation_heads: hidden_size {arch.hidden_size} is not divisible by "
                f"{layer.num_operation_heads} heads"
            )
        if layer.operation_type == "DSC" and layer.num_operation_heads % 2:
            raise InvalidArchitecture(
                f"{where}.num_operation_heads: DSC splits heads half attention, half convolution; needs an even count"
            )


# -- sampling and mutation -------------------------------------------------------------
def _pick(rng: np.random.Generator, values: Sequence) -> Any:
    return values[int(rng.integers(len(values)))]


def sample_layer(rng: np.random.Generator, c: Choices) -> EncoderLayer:
    op_type, op_param = _pick(rng, c.operations)
    return EncoderLayer(
        op_type,
        op_param,
        _pick(rng, c.num_operation_heads),
        _pick(rng, c.feed_forward_dimension),
        _pick(rng, c.num_feed_forward),
    )


def depth_probabilities(c: Choices, uniform_over_space: bool) -> np.ndarray:
    """P(depth): proportional to the number of architectures of that depth (uniform over the whole
    space), or equal per depth (how the benchmark's 500 were drawn: 239 two-layer, 261 four-layer)."""
    if uniform_over_space:
        weights = np.array([float(c.layer_choices) ** n for n in c.num_encoder_layers])
    else:
        weights = np.ones(len(c.num_encoder_layers))
    return weights / weights.sum()


def sample(rng: np.random.Generator, c: Choices | None = None, uniform_over_space: bool = True) -> BertArch:
    c = c or benchmark_choices()
    depth = c.num_encoder_layers[rng.choice(len(c.num_encoder_layers), p=depth_probabilities(c, uniform_over_space))]
    hidden = _pick(rng, c.hidden_size)
    return BertArch(hidden, tuple(sample_layer(rng, c) for _ in range(depth)))


def _other(rng: np.random.Generator, values: Sequence, current: Any) -> Any:
    others = [v for v in values if v != current]
    return _pick(rng, others)


def mutate(arch: BertArch, rng: np.random.Generator, c: Choices | None = None) -> BertArch:
    """One edit: the hidden size, the depth (layers appended at random or dropped from the end),
    or one field of one layer (a new operation type draws a parameter valid for it)."""
    c = c or benchmark_choices()
    kind = _pick(rng, ("hidden_size", "depth", "layer", "layer", "layer"))
    if kind == "hidden_size" and len(c.hidden_size) > 1:
        return replace(arch, hidden_size=_other(rng, c.hidden_size, arch.hidden_size))
    if kind == "depth" and len(c.num_encoder_layers) > 1:
        depth = _other(rng, c.num_encoder_layers, arch.num_layers)
        layers = arch.encoder_layers[:depth] + tuple(sample_layer(rng, c) for _ in range(depth - arch.num_layers))
        return replace(arch, encoder_layers=layers)
    i = int(rng.integers(arch.num_layers))
    layer = arch.encoder_layers[i]
    field = _pick(rng, ("operation", "num_operation_heads", "feed_forward_dimension", "num_feed_forward"))
    if field == "operation":
        op_type, op_param = _other(rng, c.operations, (layer.operation_type, layer.operation_parameter))
        new = replace(layer, operation_type=op_type, operation_parameter=op_param)
    else:
        new = replace(layer, **{field: _other(rng, getattr(c, field), getattr(layer, field))})
    layers = arch.encoder_layers[:i] + (new,) + arch.encoder_layers[i + 1 :]
    return replace(arch, encoder_layers=layers)
