"""Performance of a binary classifier without labels: confidence-based performance estimation.

CBPE (NannyML's "Confidence-based Performance Estimation") trusts the model's
*calibrated* probability ``p_i`` as the chance that row ``i`` is positive.
Then, for a window of unlabelled predictions, every entry of the confusion
matrix at a threshold has an expected value (``E[TP] = sum of p_i over the
rows predicted positive``, ``E[FP] = sum of 1 - p_i`` over the same rows, and
so on), and so has every metric built from it, the ROC curve included.

1. :meth:`CBPE.fit` takes a labelled *reference* window (scores and labels the
   model was validated on), learns a monotone map from score to probability
   (isotonic regression) and keeps what the sampling error of each metric
   needs.
2. :meth:`CBPE.estimate` takes the scores of a current window and returns a
   :class:`CBPEEstimate`: expected TP/FP/TN/FN, accuracy, precision, recall,
   F1 and ROC AUC, each with a sampling-error standard deviation and a band of
   ``±3`` of them.

The estimate is right when the calibration learnt on the reference still
holds, that is when only the inputs moved (covariate shift) and ``P(y | x)``
did not (no concept drift). It cannot see concept drift: compare with
realised performance (:func:`loopml.monitoring.realised_performance`) once
labels arrive. The measured error on the flights data is in
``docs/monitoring-cbpe.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedKFold

from loopml.errors import MonitoringError
from loopml.monitoring._json import finite_or_none

__all__ = ["CBPE", "CBPEEstimate", "MetricEstimate", "expected_roc_auc"]

Calibration = Literal["auto", "isotonic", "none"]
_FOLDS = 5
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class MetricEstimate:
    """One estimated metric with its sampling error and band.

    Attributes
    ----------
    value : float or None
        The expected metric; ``None`` when undefined (e.g. precision with no
        row predicted positive).
    sampling_error : float or None
        Standard deviation of the metric over windows of this size drawn from
        the reference distribution; ``None`` when the reference cannot tell.
    lower, upper : float or None
        ``value ∓ band_width * sampling_error``, clipped to ``[0, 1]`` (to
        ``[0, n]`` for confusion-matrix counts); ``None`` with ``value`` or
        ``sampling_error``.
    """

    value: float | None
    sampling_error: float | None
    lower: float | None
    upper: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict (non-finite numbers become ``None``)."""
        return {
            "value": finite_or_none(self.value),
            "sampling_error": finite_or_none(self.sampling_error),
            "lower": finite_or_none(self.lower),
            "upper": finite_or_none(self.upper),
        }


@dataclass(frozen=True)
class CBPEEstimate:
    """Expected performance of one window of unlabelled predictions.

    Attributes
    ----------
    n : int
        Rows estimated (rows with a missing score are dropped).
    n_dropped : int
        Rows dropped for a missing score.
    threshold : float
        Score at or above which a row is predicted positive.
    positive_rate : float
        Mean calibrated probability: the expected share of positive labels.
    tp, fp, tn, fn : MetricEstimate
        Expected confusion-matrix counts; ``tp + fp + tn + fn == n``.
    accuracy, precision, recall, f1, roc_auc : MetricEstimate
        Expected metrics in ``[0, 1]``.
    calibration : {"isotonic", "identity"}
        The score-to-probability map used.
    finding : str or None
        Why a metric is missing, else ``None``.
    """

    n: int
    n_dropped: int
    threshold: float
    positive_rate: float
    tp: MetricEstimate
    fp: MetricEstimate
    tn: MetricEstimate
    fn: MetricEstimate
    accuracy: MetricEstimate
    precision: MetricEstimate
    recall: MetricEstimate
    f1: MetricEstimate
    roc_auc: MetricEstimate
    calibration: str
    finding: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict (non-finite numbers become ``None``)."""
        metrics = ("tp", "fp", "tn", "fn", "accuracy", "precision", "recall", "f1", "roc_auc")
        return {
            "n": self.n,
            "n_dropped": self.n_dropped,
            "threshold": finite_or_none(self.threshold),
            "positive_rate": finite_or_none(self.positive_rate),
            "calibration": self.calibration,
            **{name: getattr(self, name).to_dict() for name in metrics},
            "finding": self.finding,
        }


def _clean_scores(values: ArrayLike, *, role: str) -> Floats:
    try:
        scores = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise MonitoringError(f"CBPE: {role} scores are not numeric ({exc})") from exc
    finite = scores[~np.isnan(scores)]
    if not ((finite >= 0.0) & (finite <= 1.0)).all():
        raise MonitoringError(f"CBPE: {role} scores must be probabilities in [0, 1]")
    return scores


def expected_roc_auc(probabilities: ArrayLike, scores: ArrayLike) -> float | None:
    """Expected ROC AUC when row ``i`` is positive with probability ``p_i``.

    Rows are ordered by the model's ``scores`` (descending); at each distinct
    score the expected true positives are the sum of ``p_i`` above the
    threshold and the expected false positives the sum of ``1 - p_i``. Divided
    by their totals they give the expected TPR and FPR, and the area under
    that curve (trapezoids; tied scores form one step) is the estimate.

    Parameters
    ----------
    probabilities : array-like of shape (n_samples,)
        Calibrated probability of class 1, no ``NaN``.
    scores : array-like of shape (n_samples,)
        The model's scores, which set the order of the thresholds.

    Returns
    -------
    float or None
        ``None`` when the expected number of positives or negatives is 0.

    References
    ----------
    .. [1] NannyML, "Estimation of Performance of Binary Classification
       Models: CBPE", https://nannyml.readthedocs.io/en/stable/how_it_works/performance_estimation.html

    Examples
    --------
    >>> expected_roc_auc([0.0, 0.0, 1.0, 1.0], [0.1, 0.2, 0.8, 0.9])
    1.0
    """
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    order = np.argsort(-s, kind="stable")
    p, s = p[order], s[order]
    last_of_tie = np.r_[s[1:] != s[:-1], True]
    tps = np.cumsum(p)[last_of_tie]
    fps = np.cumsum(1.0 - p)[last_of_tie]
    if tps.size == 0 or tps[-1] <= 0.0 or fps[-1] <= 0.0:
        return None
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def _ece(probabilities: Floats, labels: Floats, n_bins: int = 10) -> float:
    """Expected calibration error over equal-count bins of the probabilities."""
    order = np.argsort(probabilities, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, min(n_bins, order.size)):
        total += chunk.size * abs(float(probabilities[chunk].mean() - labels[chunk].mean()))
    return total / order.size


def _isotonic() -> IsotonicRegression:
    return IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")


def _isotonic_helps(scores: Floats, labels: Floats) -> bool:
    """Whether out-of-fold isotonic probabilities have a lower ECE than the raw scores."""
    out_of_fold = np.empty_like(scores)
    folds = StratifiedKFold(n_splits=_FOLDS, shuffle=True, random_state=0)
    for train, test in folds.split(scores, labels):
        out_of_fold[test] = _isotonic().fit(scores[train], labels[train]).predict(scores[test])
    return _ece(out_of_fold, labels) < _ece(scores, labels)


def _placements(scores: Floats, labels: Floats) -> tuple[Floats, Floats]:
    """DeLong placement values of the positives and of the negatives (ties count half)."""
    pos, neg = np.sort(scores[labels == 1.0]), np.sort(scores[labels == 0.0])
    below_pos = np.searchsorted(neg, pos, side="left") + np.searchsorted(neg, pos, side="right")
    above_neg = pos.size * 2 - (
        np.searchsorted(pos, neg, side="left") + np.searchsorted(pos, neg, side="right")
    )
    return below_pos / (2.0 * neg.size), above_neg / (2.0 * pos.size)


def _scaled(std: float, share: float, n: int) -> float | None:
    """``std / sqrt(n * share)``: standard error of a mean over ``n * share`` rows."""
    return None if share <= 0.0 or n <= 0 else std / math.sqrt(n * share)


def _band(
    value: float | None, error: float | None, width: float, top: float = 1.0
) -> MetricEstimate:
    if value is None or error is None:
        return MetricEstimate(value, error, None, None)
    return MetricEstimate(
        value, error, max(0.0, value - width * error), min(top, value + width * error)
    )


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator <= 0.0 else numerator / denominator


class CBPE:
    """Confidence-based performance estimation for a binary classifier.

    Parameters
    ----------
    calibration : {"auto", "isotonic", "none"}, default "auto"
        How scores become probabilities, learnt on the reference:

        - ``"isotonic"``: isotonic regression (scikit-learn). It is monotone,
          so it keeps the model's ranking (the ROC curve is still traced in
          the order of the raw scores), and non-parametric, so unlike Platt
          scaling it assumes no shape for the miscalibration; the price is
          that it needs a reference of a few hundred rows or more.
        - ``"none"``: the scores are taken as probabilities as they are.
        - ``"auto"``: isotonic when the reference has at least
          ``min_calibration_rows`` rows, five of each class, **and** 5-fold
          out-of-fold isotonic
          probabilities have a lower expected calibration error (10
          equal-count bins) than the raw scores; otherwise the identity (the
          fall-back for a small reference or already calibrated scores, in the
          spirit of NannyML's ``needs_calibration`` check).
    band_width : float, default 3.0
        Bands are ``value ± band_width * sampling_error``.
    min_calibration_rows : int, default 500
        Smallest reference for which ``"auto"`` tries isotonic regression.

    Notes
    -----
    Sampling error follows NannyML: a per-row quantity whose mean is the
    metric is computed on the reference, and its population standard
    deviation is divided by ``sqrt(n * share)``, with ``n`` the window size
    and ``share`` the reference share of the rows the metric averages over
    (all rows for accuracy, predicted positives for precision, actual
    positives for recall, TP+FP+FN rows for F1, with the F1 indicator scaled
    so that its mean is F1). Confusion-matrix counts use ``std * sqrt(n)``.
    ROC AUC uses both DeLong placement-value variances,
    ``var(V10) / (n·π) + var(V01) / (n·(1-π))`` with ``π`` the reference
    positive rate; NannyML keeps only the minority-class term, so these bands
    are slightly wider.

    References
    ----------
    .. [1] NannyML, "Confidence-based Performance Estimation (CBPE)",
       https://nannyml.readthedocs.io/en/stable/how_it_works/performance_estimation.html
    .. [2] NannyML, "Estimation of standard error of sampling",
       https://nannyml.readthedocs.io/en/stable/how_it_works/estimation_of_standard_error.html
    .. [3] B. Zadrozny and C. Elkan, "Transforming classifier scores into
       accurate multiclass probability estimates", KDD 2002 (isotonic calibration).
    .. [4] E. R. DeLong, D. M. DeLong and D. L. Clarke-Pearson, "Comparing the
       areas under two or more correlated receiver operating characteristic
       curves: a nonparametric approach", Biometrics 44(3), 837–845, 1988.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.beta(2, 5, 5000)
    >>> cbpe = CBPE().fit(p, rng.binomial(1, p))
    >>> estimate = cbpe.estimate(rng.beta(2, 5, 2000))
    >>> estimate.tp.value + estimate.fp.value + estimate.tn.value + estimate.fn.value
    2000.0
    """

    def __init__(
        self,
        *,
        calibration: Calibration = "auto",
        band_width: float = 3.0,
        min_calibration_rows: int = 500,
    ) -> None:
        self.calibration = calibration
        self.band_width = band_width
        self.min_calibration_rows = min_calibration_rows
        self._reference: tuple[Floats, Floats] | None = None
        self._calibrator: IsotonicRegression | None = None

    @property
    def calibration_(self) -> str:
        """The map chosen by :meth:`fit`: ``"isotonic"`` or ``"identity"``."""
        self._fitted()
        return "identity" if self._calibrator is None else "isotonic"

    def _fitted(self) -> tuple[Floats, Floats]:
        if self._reference is None:
            raise MonitoringError("CBPE: call fit(reference_scores, reference_labels) first")
        return self._reference

    def fit(self, reference_scores: ArrayLike, reference_labels: ArrayLike) -> CBPE:
        """Learn the calibration and the sampling-error components on the reference.

        Parameters
        ----------
        reference_scores : array-like of shape (n_samples,)
            Predicted probability of class 1, in ``[0, 1]``.
        reference_labels : array-like of shape (n_samples,)
            Labels 0/1 (or ``False``/``True``).

        Rows with a missing score or label are dropped.

        Returns
        -------
        CBPE
            ``self``, fitted.

        Raises
        ------
        MonitoringError
            If the arrays differ in length, a label is not 0/1, a score lies
            outside ``[0, 1]``, ``calibration`` is unknown, or fewer than two
            rows of each class are left ("not enough data").
        """
        if self.calibration not in ("auto", "isotonic", "none"):
            raise MonitoringError(
                f"CBPE: calibration must be 'auto', 'isotonic' or 'none', got {self.calibration!r}"
            )
        scores = _clean_scores(reference_scores, role="reference")
        labels = np.asarray(reference_labels, dtype=np.float64).ravel()
        if labels.shape != scores.shape:
            raise MonitoringError(
                f"CBPE: {scores.size} reference scores but {labels.size} reference labels"
            )
        keep = ~(np.isnan(scores) | np.isnan(labels))
        scores, labels = scores[keep], labels[keep]
        if not np.isin(labels, (0.0, 1.0)).all():
            raise MonitoringError("CBPE: reference labels must be 0 or 1")
        positives = int(labels.sum())
        if min(positives, labels.size - positives) < 2:
            raise MonitoringError(
                f"CBPE: not enough data: the reference needs two rows of each class "
                f"({positives} positive, {labels.size - positives} negative)"
            )
        use_isotonic = self.calibration == "isotonic" or (
            self.calibration == "auto"
            and labels.size >= self.min_calibration_rows
            and min(positives, labels.size - positives) >= _FOLDS
            and _isotonic_helps(scores, labels)
        )
        self._calibrator = _isotonic().fit(scores, labels) if use_isotonic else None
        self._reference = (scores, labels)
        return self

    def calibrate(self, scores: ArrayLike) -> Floats:
        """Map scores to calibrated probabilities (``NaN`` stays ``NaN``).

        Raises
        ------
        MonitoringError
            If the estimator is not fitted or a score lies outside ``[0, 1]``.
        """
        self._fitted()
        raw = _clean_scores(scores, role="current")
        if self._calibrator is None:
            return raw
        out = np.full_like(raw, np.nan)
        known = ~np.isnan(raw)
        if known.any():
            out[known] = self._calibrator.predict(raw[known])
        return out

    def estimate(self, scores: ArrayLike, *, threshold: float = 0.5) -> CBPEEstimate:
        """Expected performance of one window of predictions, without labels.

        Parameters
        ----------
        scores : array-like of shape (n_samples,)
            The model's predicted probability of class 1 for every row of the
            window, in ``[0, 1]``; ``NaN`` rows are dropped and counted.
        threshold : float, default 0.5
            Scores ``>= threshold`` count as predicted positive.

        Returns
        -------
        CBPEEstimate

        Raises
        ------
        MonitoringError
            If the estimator is not fitted, a score lies outside ``[0, 1]``,
            or no score is left ("not enough data").
        """
        ref_scores, ref_labels = self._fitted()
        raw = _clean_scores(scores, role="current")
        known = ~np.isnan(raw)
        raw = raw[known]
        n = int(raw.size)
        if n == 0:
            raise MonitoringError("CBPE: not enough data (no scores in the window)")
        p = self.calibrate(raw)
        predicted = raw >= threshold
        tp = float(p[predicted].sum())
        fp = float((1.0 - p[predicted]).sum())
        fn = float(p[~predicted].sum())
        tn = float(n - tp - fp - fn)
        errors = _sampling_errors(ref_scores, ref_labels, threshold, n)
        width = self.band_width
        auc = expected_roc_auc(p, raw)
        findings = []
        if auc is None:
            findings.append("expected positives or negatives are 0: ROC AUC is undefined")
        if not predicted.any():
            findings.append("no row predicted positive: precision is undefined")
        return CBPEEstimate(
            n=n,
            n_dropped=int((~known).sum()),
            threshold=threshold,
            positive_rate=float(p.mean()),
            tp=_band(tp, errors["tp"], width, n),
            fp=_band(fp, errors["fp"], width, n),
            tn=_band(tn, errors["tn"], width, n),
            fn=_band(fn, errors["fn"], width, n),
            accuracy=_band((tp + tn) / n, errors["accuracy"], width),
            precision=_band(_ratio(tp, tp + fp), errors["precision"], width),
            recall=_band(_ratio(tp, tp + fn), errors["recall"], width),
            f1=_band(_ratio(2 * tp, 2 * tp + fp + fn), errors["f1"], width),
            roc_auc=_band(auc, errors["roc_auc"], width),
            calibration=self.calibration_,
            finding="; ".join(findings) or None,
        )


def _sampling_errors(
    scores: Floats, labels: Floats, threshold: float, n: int
) -> dict[str, float | None]:
    """Sampling-error standard deviations for a window of ``n`` rows (see :class:`CBPE`)."""
    y = labels == 1.0
    pred = scores >= threshold
    cells = {"tp": pred & y, "fp": pred & ~y, "tn": ~pred & ~y, "fn": ~pred & y}
    errors: dict[str, float | None] = {
        name: float(np.std(cell)) * math.sqrt(n) for name, cell in cells.items()
    }
    errors["accuracy"] = _scaled(float(np.std(pred == y)), 1.0, n)
    errors["precision"] = (
        _scaled(float(np.std(y[pred])), float(pred.mean()), n) if pred.any() else None
    )
    errors["recall"] = _scaled(float(np.std(pred[y])), float(y.mean()), n)
    relevant = pred | y
    n_tp, n_relevant = int(cells["tp"].sum()), int(relevant.sum())
    if n_tp + 0.5 * (n_relevant - n_tp) > 0:
        scale = n_relevant / (n_tp + 0.5 * (n_relevant - n_tp))
        indicator = cells["tp"][relevant].astype(np.float64) * scale
        errors["f1"] = _scaled(float(np.std(indicator)), n_relevant / y.size, n)
    else:
        errors["f1"] = None
    v10, v01 = _placements(scores, labels)
    share = float(y.mean())
    errors["roc_auc"] = math.sqrt(
        float(np.var(v10)) / (n * share) + float(np.var(v01)) / (n * (1.0 - share))
    )
    return errors
