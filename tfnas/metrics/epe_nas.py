"""epe_nas (Lopes et al., "EPE-NAS: Efficient Performance Estimation Without Training for Neural
Architecture Search", ICANN 2021), with NAS-Bench-Suite-Zero's conventions: the input jacobians are
grouped by class; per class c, s_c = sum log(|corr| + 1e-5) over the correlation matrix of its
jacobian rows; with more than 100 classes s_c is divided by the number of rows and the score is
sum_c sum_c' |s_c - s_c'| / (number of classes), else sum_c |s_c|. Classes with one row are skipped.

LM adaptation: an input is a token position and its class is the token the language model must
predict there (RNN: the next token; BERT: the position's own token, i.e. its masked-LM target); the
row is the gradient of the space's output w.r.t. that position's input embedding (RNN: of the sum of
the last layer's outputs, as the paper's jacobian; BERT: of last_hidden_state against a fixed
seeded N(0, 1) cotangent, since its final LayerNorm makes the all-ones cotangent's gradient zero).
The vocabulary has far more than 100 classes, so the first form applies.
"""
from __future__ import annotations

import math

import torch

from tfnas.errors import ConfigError
from tfnas.metrics.base import Metric, register
from tfnas.metrics.scores import correlation
from tfnas.probe import TOKEN_JACOBIAN, TokenJacobianProbe

K = 1e-5
MANY_CLASSES = 100


def epe_score(rows: torch.Tensor, classes: torch.Tensor, num_classes: int) -> float:
    values, counts = torch.unique(classes, return_counts=True)
    per_class = []
    for value, count in zip(values.tolist(), counts.tolist()):
        if count < 2:
            continue
        corr = correlation(rows[classes == value])
        s = float(torch.log(corr.abs() + K).sum())
        per_class.append(s / count if num_classes > MANY_CLASSES else s)
    if not per_class:
        return math.nan
    s = torch.tensor(per_class, dtype=torch.float64)
    if num_classes <= MANY_CLASSES:
        return float(s.abs().sum())
    return float((s[:, None] - s[None, :]).abs().sum() / len(per_class))


def repeated_classes(classes: torch.Tensor) -> int:
    _, counts = torch.unique(classes[classes >= 0], return_counts=True)
    return int((counts >= 2).sum())


@register
class EpeNas(Metric):
    """EPE-NAS over the per-token input jacobians, classes = the LM's target tokens."""

    name = "epe_nas"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {TOKEN_JACOBIAN.need()}

    def check_batch(self, space, batch) -> None:
        classes = space.lm_classes(batch)
        if classes is None:  # no language model: the space does not serve token_jacobian (check_space says so)
            return
        found = repeated_classes(classes)
        if found < 2:
            raise ConfigError(
                "space.batch_size",
                f"epe_nas compares the jacobians of target classes that occur at least twice; the metric batch has "
                f"{found} such class(es). Raise space.batch_size or space.seq_len",
            )

    def compute(self, probe: TokenJacobianProbe) -> float:
        rows, classes = probe.token_jacobian()
        return epe_score(rows, classes, probe.num_classes())
