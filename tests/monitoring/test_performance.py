from __future__ import annotations

import json
import math

import numpy as np
import pytest

from loopml.errors import MonitoringError
from loopml.monitoring import realised_performance


def test_hand_computed_metrics() -> None:
    # predictions at 0.5: [0, 1, 0, 1] vs labels [0, 0, 1, 1] -> TP 1, FP 1, FN 1, TN 1
    result = realised_performance([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    assert (result.n, result.positives, result.n_dropped) == (4, 2, 0)
    assert result.roc_auc == pytest.approx(0.75)  # 3 of 4 positive-negative pairs ordered
    assert result.accuracy == pytest.approx(0.5)
    assert result.precision == pytest.approx(0.5)
    assert result.recall == pytest.approx(0.5)
    assert result.f1 == pytest.approx(0.5)
    expected_ll = -(math.log(0.9) + math.log(0.4) + math.log(0.4) + math.log(0.9)) / 4
    assert result.log_loss == pytest.approx(expected_ll)
    assert result.brier == pytest.approx((0.01 + 0.36 + 0.36 + 0.01) / 4)
    assert result.finding is None


def test_threshold_moves_the_confusion_matrix() -> None:
    result = realised_performance([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], threshold=0.3)
    assert (result.precision, result.recall) == (pytest.approx(2 / 3), 1.0)


def test_one_class_gives_no_auc_and_a_finding() -> None:
    result = realised_performance([1, 1, 1], [0.9, 0.2, 0.7])
    assert result.roc_auc is None
    assert result.finding is not None and "only class 1" in result.finding
    assert result.accuracy == pytest.approx(2 / 3)
    assert math.isfinite(result.log_loss)
    json.dumps(result.to_dict(), allow_nan=False)


def test_unlabelled_rows_are_dropped() -> None:
    result = realised_performance([0, np.nan, 1, 1], [0.2, 0.5, np.nan, 0.8])
    assert (result.n, result.n_dropped) == (2, 2)
    assert result.roc_auc == pytest.approx(1.0)


def test_no_precision_when_nothing_is_predicted_positive() -> None:
    result = realised_performance([0, 1], [0.1, 0.2])
    assert (result.precision, result.recall, result.f1) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("y", "s", "match"),
    [
        ([], [], "not enough data"),
        ([np.nan], [0.5], "not enough data"),
        ([0, 2], [0.1, 0.2], "labels must be 0 or 1"),
        ([0, 1], [0.1, np.inf], "scores must be probabilities"),
        ([0, 1], [-0.1, 0.5], "scores must be probabilities"),
        ([0, 1, 1], [0.1, 0.2], "3 labels but 2 scores"),
    ],
)
def test_unusable_input_raises(y: list[float], s: list[float], match: str) -> None:
    with pytest.raises(MonitoringError, match=match):
        realised_performance(y, s)
