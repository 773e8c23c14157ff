"""The probe protocol: what a metric may ask a space's probe for.

A space's probe runs the forward/backward passes once per architecture and exposes their
results; metrics only do arithmetic on them. A *need* is a string, either a plain kind
(``jacobian``) or a kind with an argument (``hidden:2``, ``jacobian_noise:10.0``). A space
declares the kinds it can serve (`SearchSpace.provides()`), and a metric applies to a space
when every need it asks for is served there; the space may refuse an argument it cannot serve
(for example a layer it does not have) in `SearchSpace.check_needs`. Both happen before a
search writes anything, with a ConfigError.
"""
from __future__ import annotations

from typing import Any, Iterable, Protocol

from tfnas.errors import ConfigError

#: The vocabulary of needs: kind -> (the probe method a metric calls, what it returns).
#: A space serves a subset. A new need is one entry here plus the method in the probes that serve it.
NEED_KINDS: dict[str, tuple[str, str]] = {
    "params": ("num_parameters()", "the number of parameters (no pass)"),
    "activation_codes": ("activation_codes()", "binary codes of every activation, one tensor per layer, a row per sequence"),
    "jacobian": ("jacobian_rows()", "input gradient of the output, one row per sequence"),
    "saliency": ("saliency_terms()", "|theta * dL/dtheta| of the weights the space's metrics read"),
    "hidden": ("hidden_states(layer)", "hidden:L, the hidden states entering recurrent layer L"),
    "hidden_saliency": ("hidden_saliency()", "sum of |h * dL/dh| over the recorded hidden states"),
    "jacobian_noise": ("noised_jacobian_rows(amplitude)", "jacobian_noise:A, the jacobian after noise of amplitude A"),
    "diversity": ("diversity_terms()", "(||W||_nuc, ||dW||_nuc) of each token-mixing weight"),
    "head_importance": ("head_importance_terms()", "|W * dW| of the attention projections"),
    "head_confidence": ("head_confidence_terms()", "per projection output, mean max over tokens"),
    "softmax_confidence": ("softmax_confidence_terms(max_over)", "per attention, the mean max probability"),
    "weights": ("layer_weights()", "the weights the zero-cost proxies sum over, per layer (l2_norm)"),
    "flops": ("flops_per_token()", "floating-point operations per token, counted from the architecture"),
    "lm_grad": ("lm_grads(), lm_chunk_grads(), lm_loss()", "gradients of the language-model loss (grad_norm, snip, plain, zico)"),
    "lm_hessian": ("lm_hessian_grads()", "Hessian-gradient products of the language-model loss (grasp)"),
    "lm_fisher": ("fisher_terms()", "activations times their loss gradients (fisher)"),
    "token_jacobian": ("token_jacobian()", "input jacobians with the target token of each position (epe_nas)"),
    "zen": ("zen_distance()", "the output change under an embedding perturbation (zen)"),
}

NOISE_PREFIX = "jacobian_noise:"


def need_kind(need: str) -> str:
    """`hidden:2` -> `hidden`; a plain need is its own kind."""
    return need.split(":", 1)[0]


def need_argument(need: str) -> str | None:
    return need.split(":", 1)[1] if ":" in need else None


def noise_need(amplitude: float) -> str:
    """The requirement string of a noised jacobian (one canonical spelling per amplitude)."""
    return f"{NOISE_PREFIX}{float(amplitude)!r}"


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


class Probe(Protocol):
    """What a space's `probe(model, batch, needs)` returns: the needs it was asked for, and for each need
    kind it serves the method listed in NEED_KINDS. A metric calls only the methods of the needs it declared."""

    needs: set[str]

    def __getattr__(self, name: str) -> Any: ...
