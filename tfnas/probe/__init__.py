"""The probe layer: what a metric may ask a space's probe for, and the machinery probes are built from.

A space's probe runs the forward/backward passes once per architecture and exposes their results;
metrics only do arithmetic on them. The contract between the two is the need vocabulary
(`tfnas.probe.kinds`): each kind declared once, with its argument grammar and the typed Protocol of
the probe methods it guarantees. A space's probe subclasses `Probe` and serves a kind by implementing
its Protocol (`Probe.provides()` lists the kinds it serves); a metric applies to a space when every need
it asks for is served there, and the space may refuse an argument it cannot serve (a layer it does not
have) in `SearchSpace.check_needs`. Both happen before a search writes anything, with a ConfigError.

Shared pass machinery, for spaces to build probes from: `tfnas.probe.lm_pass` (the language-model pass of
the label-based proxies) and `tfnas.probe.kernels` (the activation-code kernel). Metrics import only this
package's vocabulary (`from tfnas.probe import HiddenProbe, HIDDEN, ...`), never a space.
"""
from tfnas.probe.base import Probe
from tfnas.probe.kinds import (
    ACTIVATION_CODES, DIVERSITY, FLOPS, HEAD_CONFIDENCE, HEAD_IMPORTANCE, HESSIAN_MINIBATCHES, HIDDEN,
    HIDDEN_SALIENCY, JACOBIAN, JACOBIAN_NOISE, LM_CHUNKS, LM_FISHER, LM_GRAD, LM_HESSIAN, LM_KINDS, PARAMS,
    SALIENCY, SOFTMAX_CONFIDENCE, TOKEN_JACOBIAN, WEIGHTS, ZEN, ActivationCodesProbe, CleanAndNoisedJacobianProbe,
    DiversityProbe, FlopsProbe, HeadConfidenceProbe, HeadImportanceProbe, HiddenProbe, HiddenSaliencyProbe,
    JacobianProbe, LMFisherProbe, LMGradProbe, LMHessianProbe, NoisedJacobianProbe, ParamsProbe, SaliencyProbe,
    SoftmaxConfidenceProbe, TokenJacobianProbe, WeightsProbe, ZenProbe,
)
from tfnas.probe.vocabulary import (
    NEEDS, Argument, NeedKind, arguments, check_needs, check_served, declare, need_argument, need_kind,
    single_argument, unserved,
)

__all__ = [
    # the machinery of the vocabulary and the probe base
    "Probe", "NEEDS", "Argument", "NeedKind", "arguments", "check_needs", "check_served", "declare",
    "need_argument", "need_kind", "single_argument", "unserved",
    # the kinds, their constants and their Protocols
    "LM_CHUNKS", "HESSIAN_MINIBATCHES", "LM_KINDS", "ACTIVATION_CODES", "DIVERSITY", "FLOPS", "HEAD_CONFIDENCE",
    "HEAD_IMPORTANCE", "HIDDEN", "HIDDEN_SALIENCY", "JACOBIAN", "JACOBIAN_NOISE", "LM_FISHER", "LM_GRAD",
    "LM_HESSIAN", "PARAMS", "SALIENCY", "SOFTMAX_CONFIDENCE", "TOKEN_JACOBIAN", "WEIGHTS", "ZEN",
    "ActivationCodesProbe", "CleanAndNoisedJacobianProbe", "DiversityProbe", "FlopsProbe", "HeadConfidenceProbe",
    "HeadImportanceProbe", "HiddenProbe", "HiddenSaliencyProbe", "JacobianProbe", "LMFisherProbe", "LMGradProbe",
    "LMHessianProbe", "NoisedJacobianProbe", "ParamsProbe", "SaliencyProbe", "SoftmaxConfidenceProbe",
    "TokenJacobianProbe", "WeightsProbe", "ZenProbe",
]
