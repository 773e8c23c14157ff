"""Scores of correlation structure shared by several metrics."""
from __future__ import annotations

import torch

LOG_EIG_K = 1e-5


def correlation(rows: torch.Tensor) -> torch.Tensor:
    """Pearson correlation between the rows of a (n x samples) matrix, in float64.

    A row with zero variance gives NaN entries, as numpy.corrcoef does.
    """
    x = rows.to(torch.float64)
    x = x - x.mean(dim=1, keepdim=True)
    cov = x @ x.t()
    std = cov.diagonal().sqrt()
    return cov / std[:, None] / std[None, :]


def log_eig_score(corr: torch.Tensor, k: float = LOG_EIG_K) -> float:
    """S(C) = -sum(log(l + k) + 1/(l + k)) over the eigenvalues l of a symmetric matrix C."""
    if not torch.isfinite(corr).all():
        return float("nan")
    eig = torch.linalg.eigvalsh(corr) + k
    return float(-(torch.log(eig) + 1.0 / eig).sum())


def cosine_score(rows: torch.Tensor) -> float:
    """1 - sum_{i != j} |cos_ij|^(1/20) / (2 (n^2 - n)) over the rows of a matrix."""
    x = rows.to(torch.float64)
    x = x / x.norm(dim=1, keepdim=True)
    cos = (x @ x.t()).abs().pow(1.0 / 20)
    n = cos.size(0)
    off_diagonal = cos.sum() - cos.diagonal().sum()
    return float(1.0 - off_diagonal / (2 * (n * n - n)))


#: the scores a jacobian metric's `score` option chooses from (noise_jacobian, more_noised_jacobian)
JACOBIAN_SCORES = {
    "cov": lambda rows: log_eig_score(correlation(rows)),
    "cosine": cosine_score,
}


def jacobian_score(score: str):
    """The score function `score` names, or a ConfigError listing the choices."""
    if score not in JACOBIAN_SCORES:
        from tfnas.errors import ConfigError

        raise ConfigError("metric.score", f"unknown score {score!r}; choose one of {', '.join(JACOBIAN_SCORES)}")
    return JACOBIAN_SCORES[score]


def score_suffix(score: str) -> str:
    """The key suffix of a score variant: none for the covariance (the default), `_cosine` for the cosine."""
    return "" if score == "cov" else f"_{score}"
