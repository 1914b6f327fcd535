"""Prediction drift: has the distribution of the model's outputs moved?

Prediction drift needs no labels: it compares the scores (and the predicted
classes) of a current window with those of a reference window, using the
tests of :mod:`loopml.stats`. A shift of the outputs says the inputs moved in
a way the model cares about; it does not say whether the model is still right
(see :mod:`loopml.monitoring.cbpe` and :mod:`loopml.monitoring.concept`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from loopml.errors import MonitoringError
from loopml.monitoring._json import finite_or_none
from loopml.stats import DriftTestResult, chi_square_test, ks_test, wasserstein_distance_norm

__all__ = ["PredictionDrift", "prediction_drift"]


def _test_dict(result: DriftTestResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "method": result.method,
        "statistic": finite_or_none(result.statistic),
        "p_value": finite_or_none(result.p_value),
        "threshold": finite_or_none(result.threshold),
        "drifted": result.drifted,
    }


@dataclass(frozen=True)
class PredictionDrift:
    """Drift of the model's scores and predicted classes.

    Attributes
    ----------
    scores : DriftTestResult or None
        ``ks`` or ``wasserstein`` on the scores; ``None`` when not tested.
    classes : DriftTestResult or None
        ``chi_square`` on the predicted classes; ``None`` when not tested.
    n_reference, n_current : int
        Non-missing scores in each window.
    finding : str or None
        Why nothing was tested ("not enough data ..."), else ``None``.
    """

    scores: DriftTestResult | None
    classes: DriftTestResult | None
    n_reference: int
    n_current: int
    finding: str | None = None

    @property
    def drifted(self) -> bool:
        """Whether either test declares drift."""
        return any(t is not None and t.drifted for t in (self.scores, self.classes))

    def to_dict(self) -> dict[str, Any]:
        """Return a strict-JSON dict (non-finite numbers become ``None``)."""
        return {
            "drifted": self.drifted,
            "scores": _test_dict(self.scores),
            "classes": _test_dict(self.classes),
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "finding": self.finding,
        }


def prediction_drift(
    reference_scores: ArrayLike,
    current_scores: ArrayLike,
    *,
    method: Literal["ks", "wasserstein"] = "ks",
    score_threshold: float | None = None,
    class_threshold: float = 0.05,
    decision_threshold: float = 0.5,
) -> PredictionDrift:
    """Compare the output distribution of a model between two windows.

    Parameters
    ----------
    reference_scores, current_scores : array-like of shape (n_samples,)
        Predicted probability of class 1 in each window; ``NaN`` is dropped.
    method : {"ks", "wasserstein"}, default "ks"
        Test on the scores: :func:`~loopml.stats.ks_test` (drift when
        ``p < score_threshold``) or :func:`~loopml.stats.wasserstein_distance_norm`
        (drift when the distance in reference SDs ``>= score_threshold``).
    score_threshold : float, optional
        Default 0.05 for ``ks``, 0.1 for ``wasserstein``.
    class_threshold : float, default 0.05
        Significance level of the chi-square test on the predicted classes.
    decision_threshold : float, default 0.5
        Scores ``>= decision_threshold`` are predicted class 1.

    Returns
    -------
    PredictionDrift
        With a finding and no test when a window has no score.

    Raises
    ------
    MonitoringError
        If ``method`` is unknown or the scores are not numeric.

    References
    ----------
    See :func:`loopml.stats.ks_test`, :func:`loopml.stats.wasserstein_distance_norm`
    and :func:`loopml.stats.chi_square_test`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> result = prediction_drift(rng.beta(2, 5, 1000), rng.beta(5, 2, 1000))
    >>> result.drifted, result.scores.method, result.classes.method
    (True, 'ks', 'chi_square')
    """
    if method not in ("ks", "wasserstein"):
        raise MonitoringError(
            f"prediction drift: method must be 'ks' or 'wasserstein', got {method!r}"
        )
    try:
        ref = np.asarray(reference_scores, dtype=np.float64).ravel()
        cur = np.asarray(current_scores, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise MonitoringError(f"prediction drift: scores must be numeric ({exc})") from exc
    ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    if ref.size == 0 or cur.size == 0:
        role = "reference" if ref.size == 0 else "current"
        return PredictionDrift(
            None, None, int(ref.size), int(cur.size), f"not enough data: no {role} score"
        )
    if method == "ks":
        scores = ks_test(ref, cur, threshold=0.05 if score_threshold is None else score_threshold)
    else:
        scores = wasserstein_distance_norm(
            ref, cur, threshold=0.1 if score_threshold is None else score_threshold
        )
    classes = chi_square_test(
        (ref >= decision_threshold).astype(np.int64),
        (cur >= decision_threshold).astype(np.int64),
        threshold=class_threshold,
    )
    return PredictionDrift(scores, classes, int(ref.size), int(cur.size))
