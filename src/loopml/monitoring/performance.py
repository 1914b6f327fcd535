"""Realised performance of a binary classifier on logged predictions with ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn import metrics

from loopml.errors import MonitoringError
from loopml.monitoring._json import finite_or_none

__all__ = ["PerformanceResult", "realised_performance"]


@dataclass(frozen=True)
class PerformanceResult:
    """Binary-classification metrics on the labelled rows of a window.

    Attributes
    ----------
    n : int
        Labelled rows used (rows with a missing label or score are dropped).
    positives : int
        Rows with label 1.
    threshold : float
        Score at or above which a row is predicted positive.
    roc_auc : float or None
        Area under the ROC curve; ``None`` when only one class is present.
    accuracy, precision, recall, f1 : float
        At ``threshold``; precision (recall) is 0 when nothing is predicted
        (labelled) positive.
    log_loss : float
        Mean negative log-likelihood in nats (scores clipped by scikit-learn).
    brier : float
        Mean squared difference between score and label.
    n_dropped : int
        Rows dropped for a missing label or score.
    finding : str or None
        Why a metric is missing (one class only), else ``None``.
    """

    n: int
    positives: int
    threshold: float
    roc_auc: float | None
    accuracy: float
    precision: float
    recall: float
    f1: float
    log_loss: float
    brier: float
    n_dropped: int = 0
    finding: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict (non-finite numbers become ``None``)."""
        return {
            "n": self.n,
            "positives": self.positives,
            "n_dropped": self.n_dropped,
            "threshold": finite_or_none(self.threshold),
            "roc_auc": finite_or_none(self.roc_auc),
            "accuracy": finite_or_none(self.accuracy),
            "precision": finite_or_none(self.precision),
            "recall": finite_or_none(self.recall),
            "f1": finite_or_none(self.f1),
            "log_loss": finite_or_none(self.log_loss),
            "brier": finite_or_none(self.brier),
            "finding": self.finding,
        }


def realised_performance(
    y_true: ArrayLike, y_score: ArrayLike, *, threshold: float = 0.5
) -> PerformanceResult:
    """Score logged predictions against the ground truth that arrived later.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Labels 0/1 (or ``False``/``True``); ``NaN`` marks a prediction
        without feedback yet, and the row is dropped.
    y_score : array-like of shape (n_samples,)
        Predicted probability of class 1, in ``[0, 1]``; ``NaN`` rows are dropped.
    threshold : float, default 0.5
        Scores ``>= threshold`` count as predicted positive.

    Returns
    -------
    PerformanceResult

    Raises
    ------
    MonitoringError
        If the arrays differ in length, no row is left ("not enough data"),
        a label is not 0/1, or a score lies outside ``[0, 1]`` (``±inf`` included).

    References
    ----------
    .. [1] T. Fawcett, "An introduction to ROC analysis", Pattern Recognition
       Letters 27(8), 861–874, 2006.
    .. [2] G. W. Brier, "Verification of forecasts expressed in terms of
       probability", Monthly Weather Review 78(1), 1–3, 1950.

    Examples
    --------
    >>> result = realised_performance([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> result.roc_auc, result.accuracy
    (0.75, 0.5)
    """
    labels = np.asarray(y_true, dtype=np.float64).ravel()
    scores = np.asarray(y_score, dtype=np.float64).ravel()
    if labels.shape != scores.shape:
        raise MonitoringError(
            f"realised performance: {labels.size} labels but {scores.size} scores"
        )
    keep = ~(np.isnan(labels) | np.isnan(scores))
    labels, scores = labels[keep], scores[keep]
    if labels.size == 0:
        raise MonitoringError("realised performance: not enough data (no labelled predictions)")
    if not np.isin(labels, (0.0, 1.0)).all():
        bad = np.unique(labels[~np.isin(labels, (0.0, 1.0))])[:5].tolist()
        raise MonitoringError(f"realised performance: labels must be 0 or 1, got {bad}")
    if not ((scores >= 0.0) & (scores <= 1.0)).all():
        raise MonitoringError("realised performance: scores must be probabilities in [0, 1]")
    y = labels.astype(np.int64)
    predicted = (scores >= threshold).astype(np.int64)
    positives = int(y.sum())
    one_class = positives in (0, y.size)
    return PerformanceResult(
        n=int(y.size),
        positives=positives,
        threshold=threshold,
        roc_auc=None if one_class else float(metrics.roc_auc_score(y, scores)),
        accuracy=float(metrics.accuracy_score(y, predicted)),
        precision=float(metrics.precision_score(y, predicted, zero_division=0)),
        recall=float(metrics.recall_score(y, predicted, zero_division=0)),
        f1=float(metrics.f1_score(y, predicted, zero_division=0)),
        log_loss=float(metrics.log_loss(y, scores, labels=[0, 1])),
        brier=float(metrics.brier_score_loss(y, scores, labels=[0, 1])),
        n_dropped=int((~keep).sum()),
        finding=f"only class {int(y[0])} in the labels: ROC AUC is undefined"
        if one_class
        else None,
    )
