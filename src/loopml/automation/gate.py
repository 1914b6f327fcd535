"""The challenger gate: does the challenger beat the champion on the same rows, by a margin?

Both models score the *same* held-out labelled rows, so the comparison is
paired. :func:`paired_bootstrap` resamples those rows (stratified: positives
and negatives are resampled separately, so every replicate has both classes
and ROC AUC is always defined), recomputes both models' metric on each
replicate and looks at the distribution of the difference
``delta* = challenger* - champion*``:

- ``p_value`` is the one-sided bootstrap p-value of ``H0: delta <= margin``,
  ``(1 + #{delta* <= margin}) / (B + 1)``;
- ``ci_low, ci_high`` is the two-sided ``1 - alpha`` percentile interval of
  ``delta``;
- the gate passes when ``p_value <= alpha``: the challenger is better by more
  than ``margin`` with confidence ``1 - alpha``.

The replicates are drawn from ``numpy.random.default_rng(seed)``, so a
decision can be recomputed exactly from its recorded inputs. Each replicate is
a vector of row weights (how often each row was drawn), and every metric is
computed from weights without copying rows: ROC AUC as the weighted
Mann-Whitney statistic (ties count one half), accuracy and F1 from weighted
confusion counts at the 0.5 threshold, log loss as a weighted mean.

References
----------
.. [1] B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*,
   Chapman & Hall, 1993, ch. 13 (percentile intervals) and 16 (hypothesis
   tests with the bootstrap).
.. [2] X. Robin et al., "pROC: an open-source package for R and S+ to analyze
   and compare ROC curves", BMC Bioinformatics 12:77, 2011 (paired,
   stratified bootstrap test of two correlated ROC AUCs).
.. [3] E. R. DeLong, D. M. DeLong and D. L. Clarke-Pearson, "Comparing the
   areas under two or more correlated receiver operating characteristic
   curves: a nonparametric approach", Biometrics 44(3), 1988 (the
   asymptotic alternative for ROC AUC).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from loopml.errors import MonitoringError

__all__ = ["GATE_METRICS", "GateResult", "paired_bootstrap", "weighted_metric"]

GATE_METRICS = ("roc_auc", "accuracy", "f1", "neg_log_loss")
"""Metrics the gate can compare; higher is better for each."""

_CHUNK = 128
"""Replicates computed at once (bounds memory to ``_CHUNK * n`` floats per matrix)."""


@dataclass(frozen=True)
class GateResult:
    """The paired comparison of challenger and champion on the same rows.

    Attributes
    ----------
    metric : str
        One of :data:`GATE_METRICS`.
    n, n_positive : int
        Rows compared and how many are positive.
    champion, challenger : float
        The metric of each model on all ``n`` rows.
    delta : float
        ``challenger - champion``.
    margin : float
        How much better the challenger must be.
    p_value : float
        One-sided bootstrap p-value of ``H0: delta <= margin``.
    ci_low, ci_high : float
        Two-sided ``1 - alpha`` percentile interval of ``delta``.
    alpha : float
        Significance level.
    n_resamples, seed : int
        Bootstrap replicates and the seed they were drawn with.
    passed : bool
        ``p_value <= alpha``.
    """

    metric: str
    n: int
    n_positive: int
    champion: float
    challenger: float
    delta: float
    margin: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float
    n_resamples: int
    seed: int
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (for audit evidence)."""
        return asdict(self)

    def describe(self) -> str:
        """One line for people: the verdict and its numbers."""
        verdict = "beats" if self.passed else "does not beat"
        return (
            f"challenger {self.metric} {self.challenger:.4f} {verdict} champion {self.champion:.4f} "
            f"by more than {self.margin} (delta {self.delta:+.4f}, "
            f"{100 * (1 - self.alpha):.0f}% CI [{self.ci_low:+.4f}, {self.ci_high:+.4f}], "
            f"paired bootstrap p = {self.p_value:.4f} vs alpha {self.alpha}) "
            f"on the same {self.n} held-out rows"
        )


def paired_bootstrap(
    y_true: ArrayLike,
    champion: ArrayLike,
    challenger: ArrayLike,
    *,
    metric: str = "roc_auc",
    margin: float = 0.0,
    alpha: float = 0.05,
    n_resamples: int = 2000,
    seed: int = 0,
) -> GateResult:
    """Paired, stratified bootstrap test that ``challenger`` beats ``champion`` by ``margin``.

    Parameters
    ----------
    y_true : array of shape (n,)
        Binary labels (0/1); rows with a missing label or score must be removed first.
    champion, challenger : array of shape (n,)
        Each model's positive-class score (probability for ``neg_log_loss``,
        thresholded at 0.5 for ``accuracy`` and ``f1``) on the same rows.
    metric : {"roc_auc", "accuracy", "f1", "neg_log_loss"}
    margin : float
        The challenger must be better by more than this (metric units).
    alpha : float
        Significance level in (0, 1).
    n_resamples : int
        Bootstrap replicates (at least 100).
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    GateResult

    Raises
    ------
    loopml.errors.MonitoringError
        Unknown metric, arrays of different lengths, non-binary or missing
        values, or fewer than 2 rows of either class.

    Examples
    --------
    >>> y = [0, 0, 0, 0, 1, 1, 1, 1] * 20
    >>> good = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9] * 20
    >>> weak = [0.6, 0.2, 0.3, 0.7, 0.4, 0.5, 0.8, 0.1] * 20
    >>> result = paired_bootstrap(y, weak, good, margin=0.01)
    >>> result.challenger, result.passed
    (1.0, True)
    """
    if metric not in GATE_METRICS:
        raise MonitoringError(f"gate metric must be one of {', '.join(GATE_METRICS)}, got {metric!r}")
    if not 0 < alpha < 1 or n_resamples < 100:
        raise MonitoringError(
            f"gate needs 0 < alpha < 1 and at least 100 resamples, got {alpha}, {n_resamples}"
        )
    y = np.asarray(y_true, dtype=float)
    a = np.asarray(champion, dtype=float)
    b = np.asarray(challenger, dtype=float)
    if not (y.ndim == a.ndim == b.ndim == 1 and len(y) == len(a) == len(b)):
        raise MonitoringError(
            f"labels and scores must be 1-d arrays of one length, got {y.shape}, {a.shape}, {b.shape}"
        )
    if not (np.isfinite(a).all() and np.isfinite(b).all() and np.isin(y, (0.0, 1.0)).all()):
        raise MonitoringError("gate needs 0/1 labels and finite scores on every row")
    positives, negatives = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if len(positives) < 2 or len(negatives) < 2:
        raise MonitoringError(
            f"gate needs at least 2 rows of each class, got {len(positives)} positive and "
            f"{len(negatives)} negative"
        )
    ones = np.ones((1, len(y)))
    champion_value = float(weighted_metric(metric, y, a, ones)[0])
    challenger_value = float(weighted_metric(metric, y, b, ones)[0])
    rng = np.random.default_rng(seed)
    deltas = np.empty(n_resamples)
    for start in range(0, n_resamples, _CHUNK):
        size = min(_CHUNK, n_resamples - start)
        weights = np.zeros((size, len(y)))
        for rows in (positives, negatives):
            weights[:, rows] = rng.multinomial(len(rows), np.full(len(rows), 1 / len(rows)), size)
        deltas[start : start + size] = weighted_metric(metric, y, b, weights) - weighted_metric(
            metric, y, a, weights
        )
    p_value = (1 + int(np.count_nonzero(deltas <= margin))) / (n_resamples + 1)
    low, high = np.quantile(deltas, [alpha / 2, 1 - alpha / 2])
    return GateResult(
        metric=metric,
        n=len(y),
        n_positive=len(positives),
        champion=champion_value,
        challenger=challenger_value,
        delta=challenger_value - champion_value,
        margin=float(margin),
        p_value=float(p_value),
        ci_low=float(low),
        ci_high=float(high),
        alpha=float(alpha),
        n_resamples=int(n_resamples),
        seed=int(seed),
        passed=bool(p_value <= alpha),
    )


def weighted_metric(
    metric: str, y: NDArray[np.float64], score: NDArray[np.float64], weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``metric`` of ``score`` against ``y`` under each row-weight vector in ``weights``.

    Parameters
    ----------
    metric : str
        One of :data:`GATE_METRICS`.
    y, score : array of shape (n,)
        0/1 labels and positive-class scores.
    weights : array of shape (k, n)
        Non-negative row weights; integer weights equal repeating rows.

    Returns
    -------
    array of shape (k,)
    """
    if metric == "roc_auc":
        order = np.argsort(score, kind="stable")
        ordered = score[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        w = weights[:, order]
        pos = np.add.reduceat(w * y[order], starts, axis=1)
        neg = np.add.reduceat(w * (1 - y[order]), starts, axis=1)
        below = np.cumsum(neg, axis=1) - neg
        wins = np.sum(pos * (below + 0.5 * neg), axis=1)
        auc: NDArray[np.float64] = wins / (pos.sum(axis=1) * neg.sum(axis=1))
        return auc
    predicted = (score >= 0.5).astype(float)
    if metric == "accuracy":
        correct: NDArray[np.float64] = weights @ (predicted == y) / weights.sum(axis=1)
        return correct
    if metric == "f1":
        tp = weights @ (predicted * y)
        wrong = weights @ (predicted * (1 - y)) + weights @ ((1 - predicted) * y)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1: NDArray[np.float64] = np.where(tp > 0, 2 * tp / (2 * tp + wrong), 0.0)
        return f1
    eps = 1e-15
    p = np.clip(score, eps, 1 - eps)
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    neg_log_loss: NDArray[np.float64] = -(weights @ loss) / weights.sum(axis=1)
    return neg_log_loss
