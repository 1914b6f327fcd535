from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from loopml.errors import MonitoringError
from loopml.monitoring.cbpe import CBPE
from loopml.monitoring.performance import realised_performance
from loopml.monitoring.windows import performance_by_window

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def _at(days: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=days)


@pytest.fixture
def predictions() -> pd.DataFrame:
    """Four predictions on day 0, two on day 2, none on day 1."""
    return pd.DataFrame(
        {
            "request_id": ["a", "b", "c", "d", "e", "f"],
            "timestamp": [_at(0.1), _at(0.2), _at(0.5), _at(0.9), _at(2.1), _at(2.5)],
            "score": [0.9, 0.2, 0.7, 0.4, 0.8, 0.3],
            "prediction": [1, 0, 1, 0, 1, 0],
        }
    )


def _feedback(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    """Feedback from (request_id, label, arrival day)."""
    return pd.DataFrame(
        {
            "request_id": [r[0] for r in rows],
            "label": [r[1] for r in rows],
            "timestamp": [_at(r[2]) for r in rows],
        }
    )


def test_daily_windows_with_an_empty_day(predictions: pd.DataFrame) -> None:
    feedback = _feedback([("a", 1, 1.0), ("b", 0, 1.0), ("c", 0, 1.0), ("e", 1, 3.0)])
    result = performance_by_window(predictions, feedback, freq="D")
    assert [w.start for w in result.windows] == [_at(0), _at(1), _at(2)]
    assert [w.end for w in result.windows] == [_at(1), _at(2), _at(3)]
    assert [w.n_predictions for w in result.windows] == [4, 0, 2]
    assert [w.n_labelled for w in result.windows] == [3, 0, 1]
    assert [w.label_coverage for w in result.windows] == [0.75, None, 0.5]
    day0, day1, day2 = result.windows
    expected = realised_performance([1, 0, 0], [0.9, 0.2, 0.7])
    assert day0.performance == expected
    assert day1.performance is None and day1.finding == "no predictions in the window"
    assert day2.performance is not None and day2.performance.accuracy == 1.0
    assert (result.n_predictions, result.n_labelled) == (6, 4)


def test_a_late_label_updates_the_window_of_its_prediction(predictions: pd.DataFrame) -> None:
    feedback = _feedback(
        [("a", 1, 0.5), ("b", 0, 0.5), ("c", 1, 0.6), ("d", 1, 9.0)]  # d arrives a week late
    )
    before = performance_by_window(predictions, feedback, freq="D", as_of=_at(1.0))
    after = performance_by_window(predictions, feedback, freq="D")
    assert before.n_after_as_of == 1 and before.as_of == _at(1.0)
    assert before.windows[0].n_labelled == 3
    assert before.windows[0].performance is not None
    assert before.windows[0].performance.accuracy == 1.0
    # the late label lands on day 0 (prediction time), not day 9 (arrival time)
    assert len(after.windows) == 3
    assert after.windows[0].n_labelled == 4
    assert after.windows[0].performance is not None
    assert after.windows[0].performance.accuracy == 0.75  # d scored 0.4 but was positive
    assert after.windows[2].finding == "no labels yet"


def test_the_latest_label_per_request_id_wins(predictions: pd.DataFrame) -> None:
    feedback = _feedback(
        [
            ("a", 0, 5.0),  # correction: arrives last, listed first
            ("a", 1, 1.0),
            ("b", 1, 2.0),
            ("b", 0, 2.0),  # same arrival time: the later row wins
        ]
    )
    result = performance_by_window(predictions, feedback, n_windows=1)
    (window,) = result.windows
    assert window.performance == realised_performance([0, 0], [0.9, 0.2])
    assert result.n_superseded == 2 and result.n_feedback_used == 2


def test_every_feedback_row_is_accounted_for(predictions: pd.DataFrame) -> None:
    feedback = _feedback(
        [
            ("a", 1, 1.0),
            ("a", 1, 2.0),  # superseded by a later copy
            ("zz", 0, 1.0),  # unknown request id
            ("b", np.nan, 1.0),  # label missing
            ("c", 1, 30.0),  # after as_of
            ("d", 0, 1.0),
        ]
    )
    result = performance_by_window(predictions, feedback, freq="D", as_of=_at(10))
    assert result.n_feedback == 6
    assert (result.n_feedback_used, result.n_unmatched) == (2, 1)
    assert (result.n_superseded, result.n_missing_label, result.n_after_as_of) == (1, 1, 1)
    assert result.n_feedback == (
        result.n_feedback_used
        + result.n_unmatched
        + result.n_superseded
        + result.n_missing_label
        + result.n_after_as_of
    )


def test_count_windows_split_predictions_in_time_order(predictions: pd.DataFrame) -> None:
    shuffled = predictions.sample(frac=1.0, random_state=0)
    feedback = _feedback([(rid, 1, 5.0) for rid in "abcdef"])
    result = performance_by_window(shuffled, feedback, n_windows=3)
    assert [w.n_predictions for w in result.windows] == [2, 2, 2]
    assert [(w.start, w.end) for w in result.windows] == [
        (_at(0.1), _at(0.2)),
        (_at(0.5), _at(0.9)),
        (_at(2.1), _at(2.5)),
    ]
    assert [w.performance.recall for w in result.windows if w.performance] == [0.5, 0.5, 0.5]
    few = performance_by_window(predictions, feedback, n_windows=10)
    assert [w.n_predictions for w in few.windows] == [1] * 6


def test_order_of_the_input_rows_does_not_matter(predictions: pd.DataFrame) -> None:
    feedback = _feedback([("a", 1, 1.0), ("d", 1, 1.0), ("e", 0, 3.0), ("f", 0, 3.0)])
    ordered = performance_by_window(predictions, feedback, freq="12h")
    shuffled = performance_by_window(
        predictions.sample(frac=1.0, random_state=1),
        feedback.sample(frac=1.0, random_state=2),
        freq="12h",
    )
    assert ordered.to_dict() == shuffled.to_dict()
    assert len(ordered.windows) == 6  # 12-hour windows from day 0 00:00 to day 2 12:00


def test_monthly_windows_on_many_rows() -> None:
    rng = np.random.default_rng(0)
    n = 3_000
    stamps = T0 + pd.to_timedelta(np.sort(rng.uniform(0, 90, n)), unit="D")
    p = rng.uniform(0, 1, n)
    predictions = pd.DataFrame({"request_id": np.arange(n), "timestamp": stamps, "score": p})
    labelled = rng.random(n) < 0.6
    feedback = pd.DataFrame(
        {
            "request_id": np.arange(n)[labelled],
            "label": rng.binomial(1, p[labelled]),
            "timestamp": stamps[labelled] + pd.Timedelta(days=40),  # arrive 40 days later
        }
    )
    result = performance_by_window(predictions, feedback, freq="MS")
    assert [w.start.month for w in result.windows] == [1, 2, 3]
    assert [w.end.month for w in result.windows] == [2, 3, 4]
    assert sum(w.n_predictions for w in result.windows) == n
    assert sum(w.n_labelled for w in result.windows) == int(labelled.sum())
    for window in result.windows:
        assert window.label_coverage == pytest.approx(0.6, abs=0.05)
    march = predictions["timestamp"] >= pd.Timestamp("2024-03-01", tz="UTC")
    rows = np.flatnonzero(labelled & march.to_numpy())
    assert result.windows[2].performance == realised_performance(
        feedback.set_index("request_id").loc[rows, "label"], p[rows]
    )


def test_estimated_performance_beside_realised() -> None:
    rng = np.random.default_rng(1)
    ref_p = rng.beta(2, 5, 5_000)
    cbpe = CBPE().fit(ref_p, rng.binomial(1, ref_p))
    n = 4_000
    p = rng.beta(2, 5, n)
    predictions = pd.DataFrame(
        {
            "request_id": [f"r{i}" for i in range(n)],
            "timestamp": T0 + pd.to_timedelta(np.arange(n), unit="min"),
            "score": p,
        }
    )
    half = n // 2  # only the first half has labels so far
    feedback = pd.DataFrame(
        {
            "request_id": predictions["request_id"][:half],
            "label": rng.binomial(1, p[:half]),
            "timestamp": T0 + pd.Timedelta(days=30),
        }
    )
    result = performance_by_window(predictions, feedback, n_windows=2, estimator=cbpe)
    first, second = result.windows
    assert first.estimated is not None and second.estimated is not None
    assert (first.estimated.n, second.estimated.n) == (half, half)
    assert second.performance is None and second.finding == "no labels yet"
    assert first.performance is not None and first.performance.roc_auc is not None
    assert first.estimated.roc_auc.value == pytest.approx(first.performance.roc_auc, abs=0.04)
    payload = result.to_dict()
    json.dumps(payload, allow_nan=False)
    assert payload["windows"][1]["estimated"]["roc_auc"]["value"] is not None


def test_boolean_labels_and_a_window_without_scores() -> None:
    predictions = pd.DataFrame(
        {
            "request_id": [1, 2, 3],
            "timestamp": [_at(0), _at(0.5), _at(1.5)],
            "score": [0.8, 0.1, np.nan],
        }
    )
    feedback = pd.DataFrame(
        {"request_id": [1, 2, 3], "label": [True, False, True], "timestamp": [_at(3)] * 3}
    )
    result = performance_by_window(predictions, feedback, freq="D")
    assert result.windows[0].performance is not None
    assert result.windows[0].performance.accuracy == 1.0
    assert result.windows[1].performance is None
    assert result.windows[1].finding == "no labelled prediction has a score"


def test_no_feedback_at_all(predictions: pd.DataFrame) -> None:
    empty = pd.DataFrame({"request_id": [], "label": [], "timestamp": []})
    result = performance_by_window(predictions, empty, freq="D")
    assert result.n_labelled == 0
    assert all(w.performance is None for w in result.windows)
    assert result.windows[0].finding == "no labels yet"
    json.dumps(result.to_dict(), allow_nan=False)


def test_strict_json_shape(predictions: pd.DataFrame) -> None:
    feedback = _feedback([("a", 1, 1.0), ("b", 1, 1.0)])  # one class only: AUC undefined
    payload = performance_by_window(predictions, feedback, freq="D").to_dict()
    text = json.dumps(payload, allow_nan=False)
    assert "NaN" not in text
    window = payload["windows"][0]
    assert window["start"] == "2024-01-01T00:00:00+00:00"
    assert window["performance"]["roc_auc"] is None
    assert window["estimated"] is None
    assert payload["windows"][1]["label_coverage"] is None


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        ("drop_score", {"freq": "D"}, "no column\\(s\\) \\['score'\\]"),
        ("duplicate_id", {"freq": "D"}, "repeat request ids \\['a'\\]"),
        ("missing_time", {"freq": "D"}, "1 missing value"),
        ("empty", {"freq": "D"}, "not enough data"),
        ("none", {"freq": "D", "n_windows": 2}, "exactly one of freq or n_windows"),
        ("none", {}, "exactly one of freq or n_windows"),
        ("none", {"n_windows": 0}, "n_windows must be >= 1"),
        ("none", {"freq": "fortnightly"}, "bad freq"),
        ("none", {"freq": "ms"}, "more than 100,000 windows"),
        ("bad_score", {"freq": "D"}, "scores must be probabilities"),
    ],
)
def test_invalid_predictions(
    predictions: pd.DataFrame, change: str, kwargs: dict[str, object], match: str
) -> None:
    frame = predictions.copy()
    if change == "drop_score":
        frame = frame.drop(columns="score")
    elif change == "duplicate_id":
        frame.loc[1, "request_id"] = "a"
    elif change == "missing_time":
        frame.loc[2, "timestamp"] = pd.NaT
    elif change == "empty":
        frame = frame.iloc[:0]
    elif change == "bad_score":
        frame.loc[0, "score"] = 1.5
    feedback = _feedback([("a", 1, 1.0), ("b", 0, 1.0)])
    with pytest.raises(MonitoringError, match=match):
        performance_by_window(frame, feedback, **kwargs)  # type: ignore[arg-type]


def test_invalid_feedback(predictions: pd.DataFrame) -> None:
    with pytest.raises(MonitoringError, match="feedback frame has no column"):
        performance_by_window(predictions, pd.DataFrame({"request_id": ["a"]}), freq="D")
    with pytest.raises(MonitoringError, match="must be 0 or 1, got \\[2.0\\]"):
        performance_by_window(predictions, _feedback([("a", 2, 1.0)]), freq="D")
    with pytest.raises(MonitoringError, match="'label' must be numeric"):
        performance_by_window(predictions, _feedback([("a", "yes", 1.0)]), freq="D")  # type: ignore[list-item]
    with pytest.raises(MonitoringError, match="cannot be compared"):
        performance_by_window(
            predictions, _feedback([("a", 1, 1.0)]), freq="D", as_of=datetime(2024, 1, 2)
        )
