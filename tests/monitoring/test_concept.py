from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from river.drift import ADWIN

from loopml.errors import MonitoringError
from loopml.monitoring.concept import (
    DEFAULT_DETECTOR_PARAMETERS,
    ConceptDriftResult,
    detect_concept_drift,
)

CHANGE = 3000


def _jump(seed: int, before: float = 0.1, after: float = 0.3) -> NDArray[np.float64]:
    """An error stream whose rate jumps from ``before`` to ``after`` at row CHANGE."""
    rng = np.random.default_rng(seed)
    stream: NDArray[np.float64] = np.r_[
        rng.random(CHANGE) < before, rng.random(CHANGE) < after
    ].astype(np.float64)
    return stream


def _positions(result: ConceptDriftResult, detector: str) -> list[int]:
    (found,) = [d for d in result.detectors if d.detector == detector]
    return [d.position for d in found.detections]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("detector", ["adwin", "page_hinkley"])
def test_adwin_and_page_hinkley_fire_after_the_change_only(detector: str, seed: int) -> None:
    positions = _positions(detect_concept_drift(_jump(seed), detectors=[detector]), detector)
    assert positions, "the change was missed"
    assert positions[0] >= CHANGE, f"false alarm before the change at {positions[0]}"
    assert positions[0] - CHANGE <= 400


def test_ddm_fires_within_a_bounded_delay_and_rarely_before() -> None:
    early = 0
    for seed in range(8):
        positions = _positions(detect_concept_drift(_jump(seed), detectors=["ddm"]), "ddm")
        after = [p for p in positions if p >= CHANGE]
        assert after and after[0] - CHANGE <= 500, (seed, positions)
        early += any(p < CHANGE for p in positions)
    # DDM false-alarms (module docstring: 17% of 6,000-row stationary streams); seeds 0 and 3
    assert early <= 2


def test_stationary_streams_measured_false_alarm_rates() -> None:
    alarms = dict.fromkeys(DEFAULT_DETECTOR_PARAMETERS, 0)
    for seed in range(100, 140):
        rng = np.random.default_rng(seed)
        result = detect_concept_drift((rng.random(6000) < 0.1).astype(float))
        assert not result.finding
        for found in result.detectors:
            alarms[found.detector] += found.drifted
    assert alarms["adwin"] == 0
    assert alarms["page_hinkley"] == 0
    assert alarms["ddm"] / 40 <= 0.3


def test_river_defaults_for_ddm_false_alarm_more() -> None:
    river_default = {"ddm": {"warm_start": 30}}
    alarms = {"river": 0, "loopml": 0}
    for seed in range(100, 140):
        stream = (np.random.default_rng(seed).random(6000) < 0.1).astype(float)
        alarms["river"] += detect_concept_drift(
            stream, detectors=["ddm"], parameters=river_default
        ).drifted
        alarms["loopml"] += detect_concept_drift(stream, detectors=["ddm"]).drifted
    assert alarms["loopml"] < alarms["river"]


def test_positions_are_those_river_reports_each_once() -> None:
    stream = _jump(0)
    reference = ADWIN()  # type: ignore[no-untyped-call]
    expected = []
    for i, x in enumerate(stream):
        reference.update(x)  # type: ignore[no-untyped-call]
        if reference.drift_detected:
            expected.append(i)
    positions = _positions(detect_concept_drift(stream, detectors=["adwin"]), "adwin")
    assert positions == expected
    assert len(set(positions)) == len(positions)


def test_two_changes_give_two_detections_in_order() -> None:
    rng = np.random.default_rng(7)
    stream = np.r_[rng.random(3000) < 0.05, rng.random(3000) < 0.3, rng.random(3000) < 0.6]
    positions = _positions(detect_concept_drift(stream, detectors=["adwin"]), "adwin")
    assert positions == sorted(positions)
    assert any(3000 <= p < 3500 for p in positions)
    assert any(6000 <= p < 6500 for p in positions)
    assert not any(p < 3000 for p in positions)


def test_labels_and_predictions_give_the_same_stream_as_errors() -> None:
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, 6000)
    errors = _jump(3)
    y_pred = np.where(errors == 1, 1 - y_true, y_true)
    by_errors = detect_concept_drift(errors)
    by_labels = detect_concept_drift(y_true=y_true, y_pred=y_pred)
    assert by_labels.to_dict() == by_errors.to_dict()
    assert by_labels.error_rate == pytest.approx(errors.mean())


def test_missing_labels_are_dropped_and_rows_still_point_at_the_input() -> None:
    errors = _jump(1)
    y_true = np.zeros(errors.size)
    y_pred = errors.copy()
    y_true_with_gaps = y_true.astype(object)
    y_true_with_gaps[::10] = None  # every tenth label has not arrived
    result = detect_concept_drift(y_true=y_true_with_gaps, y_pred=y_pred, detectors=["adwin"])
    assert (result.n, result.n_dropped) == (5400, 600)
    kept = np.flatnonzero(np.arange(errors.size) % 10 != 0)
    for detection in result.detectors[0].detections:
        assert detection.row == kept[detection.position]
        assert detection.row % 10 != 0


def test_timestamps_set_the_order_and_are_reported() -> None:
    errors = _jump(2)
    stamps = pd.date_range("2024-01-01", periods=errors.size, freq="min", tz="UTC")
    in_order = detect_concept_drift(errors, timestamps=stamps)
    shuffle = np.random.default_rng(0).permutation(errors.size)
    shuffled = detect_concept_drift(errors[shuffle], timestamps=stamps[shuffle])
    for a, b in zip(in_order.detectors, shuffled.detectors, strict=True):
        assert [d.position for d in a.detections] == [d.position for d in b.detections]
        assert [d.timestamp for d in a.detections] == [d.timestamp for d in b.detections]
        for detection in b.detections:
            assert shuffle[detection.row] == detection.position
            assert detection.timestamp == stamps[detection.position]


def test_all_correct_and_empty_streams() -> None:
    all_correct = detect_concept_drift(np.zeros(5000))
    assert not all_correct.drifted and all_correct.error_rate == 0.0
    assert all_correct.finding is None
    empty = detect_concept_drift([])
    assert (empty.n, empty.error_rate, empty.drifted) == (0, None, False)
    assert empty.finding is not None and "empty" in empty.finding
    unknown = detect_concept_drift([np.nan, np.nan])
    assert (unknown.n, unknown.n_dropped) == (0, 2)
    json.dumps(empty.to_dict(), allow_nan=False)


def test_parameters_override_the_defaults() -> None:
    stream = _jump(4)
    default = _positions(detect_concept_drift(stream, detectors=["page_hinkley"]), "page_hinkley")
    eager = detect_concept_drift(
        stream, detectors=["page_hinkley"], parameters={"page_hinkley": {"threshold": 20.0}}
    )
    assert eager.detectors[0].parameters["threshold"] == 20.0
    assert eager.detectors[0].parameters["mode"] == "up"
    assert _positions(eager, "page_hinkley")[0] < default[0]
    single = detect_concept_drift(stream, detectors="page_hinkley")
    assert _positions(single, "page_hinkley") == default


def test_strict_json() -> None:
    stamps = pd.date_range("2024-01-01", periods=6000, freq="min", tz="UTC")
    payload = detect_concept_drift(_jump(5), timestamps=stamps).to_dict()
    text = json.dumps(payload, allow_nan=False)
    assert payload["drifted"] is True
    assert {d["detector"] for d in payload["detectors"]} == {"adwin", "page_hinkley", "ddm"}
    assert "2024-01-03" in text  # detection timestamps around row 3,100


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "either errors or both"),
        ({"errors": [0, 1], "y_true": [0, 1], "y_pred": [0, 1]}, "either errors or both"),
        ({"y_true": [0, 1]}, "both y_true and y_pred"),
        ({"y_true": [0, 1], "y_pred": [0]}, "2 labels but 1 predictions"),
        ({"errors": [0, 2]}, "0 \\(right\\) or 1"),
        ({"errors": ["x"]}, "errors must be 0/1"),
        ({"errors": [0, 1], "detectors": ["kswin"]}, "unknown detector"),
        ({"errors": [0, 1], "parameters": {"adwin": {"nope": 1}}}, "bad parameters for 'adwin'"),
        ({"errors": [0, 1], "timestamps": ["2024-01-01"]}, "2 errors but 1 timestamps"),
        ({"errors": [0, 1], "timestamps": ["2024-01-01", None]}, "1 missing timestamp"),
    ],
)
def test_invalid_inputs(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(MonitoringError, match=match):
        detect_concept_drift(**kwargs)  # type: ignore[arg-type]
