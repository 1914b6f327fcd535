"""Metrics of a binary classifier overall and per category of each categorical feature.

:func:`slice_metrics` scores one frame once and groups the rows by category:
ROC AUC, accuracy at a 0.5 threshold and log loss per slice, with the row and
positive counts. A slice with fewer than ``min_rows`` rows gets counts only
(finding ``"fewer than N rows"``), a slice holding one class gets no ROC AUC.
Categories beyond the ``max_categories`` most frequent are pooled into one
``other (k categories)`` slice; missing values form a ``(missing)`` slice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

__all__ = ["SliceMetrics", "slice_metrics"]

MISSING = "(missing)"
"""Label of the slice of rows whose category is missing."""


@dataclass(frozen=True)
class SliceMetrics:
    """Metrics of the rows whose ``feature`` equals ``category`` (``feature`` ``"(all)"``: every row).

    ``roc_auc``, ``accuracy`` and ``log_loss`` are ``None`` when ``finding``
    says why (too few rows, one class only).
    """

    feature: str
    category: str
    n: int
    positives: int
    roc_auc: float | None
    accuracy: float | None
    log_loss: float | None
    finding: str | None = None

    @property
    def positive_rate(self) -> float | None:
        """Share of positive labels, ``None`` for an empty slice."""
        return None if self.n == 0 else self.positives / self.n

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {**self.__dict__, "positive_rate": self.positive_rate}


def _one(
    feature: str, category: str, truth: npt.NDArray[np.bool_], score: npt.NDArray[np.float64],
    min_rows: int,
) -> SliceMetrics:
    n, positives = int(truth.size), int(truth.sum())
    if n < min_rows:
        return SliceMetrics(feature, category, n, positives, None, None, None,
                            f"fewer than {min_rows} rows")
    accuracy = float(accuracy_score(truth, score >= 0.5))
    loss = float(log_loss(truth, np.clip(score, 1e-15, 1 - 1e-15), labels=[False, True]))
    if positives in (0, n):
        return SliceMetrics(feature, category, n, positives, None, accuracy, loss,
                            "one class only: no ROC AUC")
    auc = float(roc_auc_score(truth, score))
    return SliceMetrics(feature, category, n, positives, auc, accuracy, loss)


def slice_metrics(
    frame: pd.DataFrame,
    truth: npt.NDArray[np.bool_],
    score: npt.NDArray[np.float64],
    features: Sequence[str],
    *,
    max_categories: int = 20,
    min_rows: int = 30,
) -> tuple[SliceMetrics, list[SliceMetrics]]:
    """Overall and per-category metrics of positive-class scores.

    Parameters
    ----------
    frame : DataFrame of shape (n_samples, ...)
        Holds the categorical ``features``.
    truth : array of bool, shape (n_samples,)
        Whether each row's label is the positive class.
    score : array of float, shape (n_samples,)
        Predicted probability of the positive class.
    features : sequence of str
        Categorical columns to slice by.
    max_categories : int, default 20
        Most frequent categories kept per feature; the rest are pooled.
    min_rows : int, default 30
        Smallest slice that gets metrics.

    Returns
    -------
    overall : SliceMetrics
    slices : list of SliceMetrics
        Per feature (in the given order), categories by decreasing row count.

    References
    ----------
    .. [1] T. Fawcett, "An introduction to ROC analysis", Pattern Recognition
       Letters 27(8), 2006.

    Examples
    --------
    >>> frame = pd.DataFrame({"c": ["a", "a", "b", "b"]})
    >>> overall, slices = slice_metrics(frame, np.array([True, False, True, False]),
    ...                                 np.array([0.9, 0.2, 0.4, 0.6]), ["c"], min_rows=2)
    >>> overall.roc_auc, [(s.category, s.roc_auc) for s in slices]
    (0.75, [('a', 1.0), ('b', 0.0)])
    """
    truth = np.asarray(truth, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    overall = _one("(all)", "(all)", truth, score, min_rows)
    slices: list[SliceMetrics] = []
    for feature in features:
        values = frame[feature].astype(object).where(frame[feature].notna(), MISSING).astype(str)
        counts = values.value_counts(sort=True)
        kept = list(counts.index[:max_categories])
        for category in kept:
            mask = (values == category).to_numpy()
            slices.append(_one(feature, str(category), truth[mask], score[mask], min_rows))
        rest = counts.index[max_categories:]
        if len(rest):
            mask = values.isin(rest).to_numpy()
            slices.append(_one(feature, f"other ({len(rest)} categories)", truth[mask],
                               score[mask], min_rows))
    return overall, slices
