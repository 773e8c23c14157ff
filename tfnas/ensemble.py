"""Calibrated proxy ensembles: learn how to combine training-free metrics from a few trainings.

The model, in the spirit of two published ideas and written for this project:

* NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 Datasets and Benchmarks): zero-cost
  proxies are most useful as *features* of a performance predictor, not one at a time;
* RoBoT (He et al., "Robustifying and Boosting Training-Free NAS", ICLR 2024): the weights of
  an ensemble of proxy *rankings* are learned from the true performance of the architectures it
  queries, exploring the weight space with Bayesian optimisation, then exploiting the best weights.

Here each candidate is described by its metrics' ranks among the scored candidates (signed so
that "better by the metric's declared direction" is higher, scaled to unit variance); ranks make
the metrics' wildly different scales and outliers irrelevant. The target is a Bayesian linear
regression on those ranks (Bishop, PRML section 3.3): prior w ~ N(w0, I/alpha) with w0 the
equal-weight rank average (the paper's rank-average ensemble, what we believe before any
training), noise precision beta; alpha and beta are set by evidence maximisation (MacKay 1992;
PRML 3.5.2), so there is no per-benchmark hyper-parameter to tune. Each training goes to the best
untrained candidate under the posterior mean, which is refitted after every training (the first
under the prior mean: the plain rank average), so what each training teaches moves the next pick.
Thompson sampling (Thompson 1933; Russo et al. 2018) draws the weights from the posterior instead.
The predictor that uses this model, and the loop that trains one candidate at a time, are
tfnas/predictors/ensemble.py and tfnas/training/sequential.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy.stats import rankdata


#: the fewest trainings a posterior can be fitted to (standardised targets need two)
MIN_TRAININGS = 2


def signed_ranks(values: np.ndarray, higher_is_better: Sequence[bool]) -> np.ndarray:
    """n x m metric values -> unit-variance centred ranks, oriented so that higher is better by each metric.

    Non-finite values rank worst for their metric. Ties share their average rank.
    """
    values = np.asarray(values, dtype=float)
    n, m = values.shape
    out = np.zeros((n, m))
    for j in range(m):
        column = values[:, j] if higher_is_better[j] else -values[:, j]
        column = np.where(np.isfinite(column), column, -np.inf)  # undefined: worst (ties among themselves)
        r = (rankdata(column) - 0.5) / n - 0.5  # in (-1/2, 1/2)
        sd = r.std()
        out[:, j] = r / sd if sd > 0 else 0.0
    return out


@dataclass
class BayesianRanker:
    """Bayesian linear regression of the (z-scored) targets on rank features, prior mean `w0`."""

    w0: np.ndarray
    alpha: float = field(default=0.0)
    beta: float = 1.0
    mean: np.ndarray | None = None
    cov: np.ndarray | None = None

    def __post_init__(self):
        self.w0 = np.asarray(self.w0, dtype=float)
        m = len(self.w0)
        # before any data: prior sd of each weight = the size of the prior weights' norm, so the first
        # draws explore directions around the rank average
        if not self.alpha:
            self.alpha = float(m)
        self.mean, self.cov = self.w0.copy(), np.eye(m) / self.alpha

    def fit(self, features: np.ndarray, targets: np.ndarray, iterations: int = 50) -> "BayesianRanker":
        """Posterior given trained candidates' features (n x m) and targets (n, higher is better)."""
        X, t = np.asarray(features, dtype=float), np.asarray(targets, dtype=float)
        n, m = X.shape
        if n < MIN_TRAININGS or np.ptp(t) == 0:
            return self
        t = (t - t.mean()) / t.std()
        Xc = X - X.mean(axis=0)  # the intercept is free
        alpha, beta = self.alpha, self.beta
        gram = Xc.T @ Xc
        eig = np.clip(np.linalg.eigvalsh(gram), 0, None)
        for _ in range(iterations if n >= 3 else 0):  # evidence maximisation needs a residual to measure
            A = alpha * np.eye(m) + beta * gram
            mean = np.linalg.solve(A, alpha * self.w0 + beta * Xc.T @ t)
            gamma = float(np.sum(beta * eig / (alpha + beta * eig)))
            new_alpha = gamma / max(float(np.sum((mean - self.w0) ** 2)), 1e-12)
            resid = float(np.sum((t - Xc @ mean) ** 2))
            new_beta = max(n - gamma, 1e-6) / max(resid, 1e-12)
            new_alpha, new_beta = float(np.clip(new_alpha, 1e-3, 1e4)), float(np.clip(new_beta, 1e-3, 1e4))
            done = abs(new_alpha - alpha) < 1e-6 * alpha and abs(new_beta - beta) < 1e-6 * beta
            alpha, beta = new_alpha, new_beta
            if done:
                break
        A = alpha * np.eye(m) + beta * gram
        self.cov = np.linalg.inv(A)
        self.cov = (self.cov + self.cov.T) / 2
        self.mean = self.cov @ (alpha * self.w0 + beta * Xc.T @ t)
        self.alpha, self.beta = alpha, beta
        return self

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        return rng.multivariate_normal(self.mean, self.cov, method="cholesky")


def prior_weights(m: int) -> np.ndarray:
    """The equal-weight rank average, scaled so that the prediction has the order of unit variance."""
    return np.full(m, 1.0 / m)


def factor_weights(features: np.ndarray, iterations: int = 200) -> np.ndarray:
    """Label-free prior weights from Spearman's one-factor model of the metrics' ranks.

    If every metric's rank is (loading x a common factor) + its own noise, the off-diagonal rank
    correlations are loading_i x loading_j, whatever the target is. The loadings are estimated by
    principal-axis factoring (iterated communalities) and the factor by its regression weights,
    loading / (1 - loading^2): metrics that agree with the rest count more, and a metric that
    disagrees with the consensus gets its sign flipped. The factor's sign is the one most metrics'
    declared directions agree with. Normalised to unit L1 norm, like the equal-weight prior. The
    same idea for classifiers without labels: Parisi et al., "Ranking and combining multiple
    predictors without labeled data", PNAS 2014.
    """
    X = np.asarray(features, dtype=float)
    n, m = X.shape
    if n < 3:
        return prior_weights(m)
    spread = X.std(axis=0) > 0
    if spread.sum() < 2:
        return prior_weights(m)
    corr = np.zeros((m, m))
    corr[np.ix_(spread, spread)] = np.corrcoef(X[:, spread].T)
    communality = np.full(m, 0.5) * spread
    loadings = np.zeros(m)
    for _ in range(iterations):
        reduced = corr.copy()
        np.fill_diagonal(reduced, communality)
        values, vectors = np.linalg.eigh(reduced)
        loadings = vectors[:, -1] * math.sqrt(max(values[-1], 0.0))
        new = np.clip(loadings**2, 1e-3, 0.995) * spread
        if np.allclose(new, communality, atol=1e-8):
            break
        communality = new
    if loadings.sum() < 0:
        loadings = -loadings
    weights = loadings / (1.0 - np.clip(loadings**2, 0.0, 0.995))
    total = np.abs(weights).sum()
    return weights / total if total > 0 else prior_weights(m)


def predicted_order(features: np.ndarray, model: BayesianRanker, healthy: np.ndarray) -> list[int]:
    """Candidates by the calibrated ensemble's posterior-mean prediction, healthy ones first."""
    scores = np.asarray(features, dtype=float) @ model.mean
    return sorted(range(len(scores)), key=lambda i: (not healthy[i], -scores[i]))
