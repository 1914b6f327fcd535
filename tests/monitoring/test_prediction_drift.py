from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from loopml.errors import MonitoringError
from loopml.monitoring.prediction_drift import prediction_drift


def test_same_distribution_does_not_drift() -> None:
    rng = np.random.default_rng(0)
    result = prediction_drift(rng.beta(2, 5, 2_000), rng.beta(2, 5, 2_000))
    assert not result.drifted
    assert result.scores is not None and result.scores.p_value is not None
    assert result.scores.p_value > 0.05


def test_shifted_scores_drift_with_reference_statistics() -> None:
    rng = np.random.default_rng(1)
    ref, cur = rng.beta(2, 5, 2_000), rng.beta(3, 4, 1_500)
    result = prediction_drift(ref, cur)
    assert result.drifted
    assert result.scores is not None and result.classes is not None
    assert result.scores.statistic == pytest.approx(stats.ks_2samp(ref, cur).statistic)
    table = [
        [(ref < 0.5).sum(), (ref >= 0.5).sum()],
        [(cur < 0.5).sum(), (cur >= 0.5).sum()],
    ]
    expected = stats.chi2_contingency(table, correction=False)
    assert result.classes.statistic == pytest.approx(expected.statistic)
    assert result.classes.p_value == pytest.approx(expected.pvalue)
    assert (result.n_reference, result.n_current) == (2_000, 1_500)


def test_wasserstein_and_decision_threshold() -> None:
    rng = np.random.default_rng(2)
    ref, cur = rng.beta(2, 5, 2_000), rng.beta(2, 5, 2_000) * 0.8
    result = prediction_drift(ref, cur, method="wasserstein", decision_threshold=0.9)
    assert result.scores is not None and result.scores.method == "wasserstein"
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert result.scores.statistic == pytest.approx(expected)
    assert result.scores.threshold == 0.1 and result.scores.drifted
    # almost nothing reaches 0.9 in either window: the classes do not move
    assert result.classes is not None and not result.classes.drifted


def test_missing_scores_are_dropped_and_empty_windows_give_a_finding() -> None:
    result = prediction_drift([0.1, np.nan, 0.3, 0.6], [0.2, 0.4, np.nan])
    assert (result.n_reference, result.n_current) == (3, 2)
    empty = prediction_drift([0.1, 0.2], [np.nan])
    assert empty.scores is None and empty.classes is None and not empty.drifted
    assert empty.finding == "not enough data: no current score"
    json.dumps(empty.to_dict(), allow_nan=False)


def test_strict_json() -> None:
    rng = np.random.default_rng(3)
    payload = prediction_drift(rng.random(500), rng.random(500) ** 2).to_dict()
    json.dumps(payload, allow_nan=False)
    assert payload["drifted"] is True
    assert payload["scores"]["method"] == "ks" and payload["classes"]["method"] == "chi_square"


def test_invalid_inputs() -> None:
    with pytest.raises(MonitoringError, match="method must be"):
        prediction_drift([0.1], [0.2], method="psi")  # type: ignore[arg-type]
    with pytest.raises(MonitoringError, match="scores must be numeric"):
        prediction_drift(["a"], [0.2])
