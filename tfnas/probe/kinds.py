"""The need vocabulary: every kind a metric may ask a probe for, declared once, each with the typed Protocol
of the probe methods it guarantees and, where it takes one, its argument's grammar.

A metric lists its needs (`needs()`) and types `compute(probe: SomeProbe)` against these Protocols; a
space's probe serves a kind by implementing its Protocol's methods (`Probe.provides()` derives the served
kinds from them). A new kind is one Protocol and one `declare(...)` here, plus one method in the probe of
each space that can serve it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from tfnas.probe.vocabulary import Argument, NeedKind, declare

if TYPE_CHECKING:
    from torch import Tensor

#: minibatches the LM pass splits the metric batch into (zico needs >= 2; grasp's Hessian uses 1..LM_CHUNKS)
LM_CHUNKS = 2
#: minibatches whose Hessian grasp uses by default: one of the two (an unbiased estimate of the batch Hessian at
#: half the cost of the double backward; `metric.hessian_minibatches=2` gives the exact one)
HESSIAN_MINIBATCHES = 1


class ParamsProbe(Protocol):
    def num_parameters(self) -> int:
        """The number of parameters (shared tied weights counted once); no pass."""


class ActivationCodesProbe(Protocol):
    def activation_codes(self) -> list[Tensor]:
        """Binary codes of every activation site, one (inputs x units) 0/1 tensor per site."""

    def activation_kernel(self) -> Tensor:
        """K = sum over sites of x xT + (1-x)(1-x)T of the codes, computed once per probe."""


class JacobianProbe(Protocol):
    def jacobian_rows(self) -> Tensor:
        """The input gradient of the space's output, one row per sequence."""


class SaliencyProbe(Protocol):
    def saliency_terms(self) -> list[Tensor]:
        """|theta * dL/dtheta| of each weight tensor the space designates."""


class HiddenProbe(Protocol):
    def hidden_states(self, layer: int) -> Tensor:
        """The hidden states entering recurrent layer `layer` (T x B x H; the first is the zero state)."""


class HiddenSaliencyProbe(Protocol):
    def hidden_saliency(self) -> float:
        """Sum of |h * dL/dh| over the recorded hidden states."""


class NoisedJacobianProbe(Protocol):
    def noised_jacobian_rows(self, amplitude: float) -> Tensor:
        """The jacobian rows after noise of amplitude `amplitude` on the input embeddings."""


class CleanAndNoisedJacobianProbe(JacobianProbe, NoisedJacobianProbe, Protocol):
    """What a metric that needs both `jacobian` and `jacobian_noise:A` reads (not a kind of its own)."""


class DiversityProbe(Protocol):
    def diversity_terms(self) -> list[float]:
        """||W||_nuc * ||dW||_nuc of each token-mixing linear map."""


class HeadImportanceProbe(Protocol):
    def head_importance_terms(self) -> list[Tensor]:
        """|W * dW| of the token-mixing operations' input projections."""


class HeadConfidenceProbe(Protocol):
    def head_confidence_terms(self) -> list[float]:
        """Per projection output, the mean over batch and features of the max over tokens."""


class SoftmaxConfidenceProbe(Protocol):
    def softmax_confidence_terms(self, max_over: str) -> list[float]:
        """Per attention, the mean max probability over `keys` or over `heads`."""


class WeightsProbe(Protocol):
    def layer_weights(self) -> list[tuple[str, list[Tensor]]]:
        """(name, weight tensors) of every layer the zero-cost proxies count; no pass."""


class FlopsProbe(Protocol):
    def flops_per_token(self) -> float:
        """Floating-point operations per token of the forward, counted from the architecture; no pass."""


class LMGradProbe(WeightsProbe, Protocol):
    def lm_loss(self) -> float:
        """The language-model loss of the metric batch."""

    def lm_grads(self) -> list[list[Tensor]]:
        """Per layer (as `layer_weights`), the gradient of the batch's LM loss for each weight."""

    def lm_chunk_grads(self) -> list[list[list[Tensor]]]:
        """Per minibatch, per layer, the gradient of that minibatch's mean LM loss."""


class LMHessianProbe(WeightsProbe, Protocol):
    def lm_hessian_grads(self) -> list[list[Tensor]]:
        """Per layer, H g: H the LM loss's Hessian over the first K minibatches, g the batch loss's gradient."""


class LMFisherProbe(Protocol):
    def fisher_terms(self) -> list[Tensor]:
        """Per linear map, the per-channel Fisher saliency 1/(2N) sum_n (sum_positions a dL/da)^2."""


class TokenJacobianProbe(Protocol):
    def token_jacobian(self) -> tuple[Tensor, Tensor]:
        """(rows: the jacobian of the output w.r.t. each position's input embedding, classes: each row's class)."""

    def num_classes(self) -> int:
        """How many classes the rows' classes are drawn from (the vocabulary)."""


class ZenProbe(Protocol):
    def zen_distance(self) -> float:
        """Mean over sequences of sum |f(e) - f(e + perturbation)|."""


PARAMS = declare(NeedKind("params", ParamsProbe, "the number of parameters (no pass)"))
ACTIVATION_CODES = declare(NeedKind("activation_codes", ActivationCodesProbe, "binary codes of every activation, and their kernel"))
JACOBIAN = declare(NeedKind("jacobian", JacobianProbe, "input gradient of the output, one row per sequence"))
SALIENCY = declare(NeedKind("saliency", SaliencyProbe, "|theta * dL/dtheta| of the weights the space's metrics read"))
HIDDEN = declare(NeedKind(
    "hidden", HiddenProbe, "hidden:L, the hidden states entering recurrent layer L",
    Argument("L", int, "metric.layer", "an integer layer number"),
))
HIDDEN_SALIENCY = declare(NeedKind("hidden_saliency", HiddenSaliencyProbe, "sum of |h * dL/dh| over the recorded hidden states"))
JACOBIAN_NOISE = declare(NeedKind(
    "jacobian_noise", NoisedJacobianProbe, "jacobian_noise:A, the jacobian after noise of amplitude A",
    Argument("A", float, "metric.amplitude", "a number"),
))
DIVERSITY = declare(NeedKind("diversity", DiversityProbe, "(||W||_nuc, ||dW||_nuc) of each token-mixing weight"))
HEAD_IMPORTANCE = declare(NeedKind("head_importance", HeadImportanceProbe, "|W * dW| of the attention projections"))
HEAD_CONFIDENCE = declare(NeedKind("head_confidence", HeadConfidenceProbe, "per projection output, mean max over tokens"))
SOFTMAX_CONFIDENCE = declare(NeedKind("softmax_confidence", SoftmaxConfidenceProbe, "per attention, the mean max probability"))
WEIGHTS = declare(NeedKind("weights", WeightsProbe, "the weights the zero-cost proxies sum over, per layer (no pass)"))
FLOPS = declare(NeedKind("flops", FlopsProbe, "floating-point operations per token, counted from the architecture"))
LM_GRAD = declare(NeedKind("lm_grad", LMGradProbe, "gradients of the language-model loss (grad_norm, snip, plain, zico)"))
LM_HESSIAN = declare(NeedKind(
    "lm_hessian", LMHessianProbe, "lm_hessian:K, Hessian-gradient products of the LM loss, H from K minibatches (grasp)",
    Argument("K", int, "metric.hessian_minibatches", f"an integer in 1..{LM_CHUNKS} (the LM pass's minibatches)",
             low=1, high=LM_CHUNKS, default=HESSIAN_MINIBATCHES, one_per_probe=True),
))
LM_FISHER = declare(NeedKind("lm_fisher", LMFisherProbe, "activations times their loss gradients (fisher)"))
TOKEN_JACOBIAN = declare(NeedKind("token_jacobian", TokenJacobianProbe, "input jacobians with each position's target class (epe_nas)"))
ZEN = declare(NeedKind("zen", ZenProbe, "the output change under an embedding perturbation (zen)"))

#: the kinds the language-model pass serves (tfnas.probe.lm_pass)
LM_KINDS = frozenset({LM_GRAD.name, LM_HESSIAN.name, LM_FISHER.name, TOKEN_JACOBIAN.name, ZEN.name})
