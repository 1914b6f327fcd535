from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

from loopml.errors import MonitoringError
from loopml.monitoring.cbpe import CBPE, expected_roc_auc
from loopml.monitoring.performance import realised_performance

Floats = NDArray[np.float64]


def _population(
    n: int, seed: int, *, a: float = 2.0, b: float = 5.0, power: float = 1.0
) -> tuple[Floats, Floats, Floats]:
    """(true probability, label, score): labels drawn from p, score = p ** power."""
    rng = np.random.default_rng(seed)
    p = rng.beta(a, b, n)
    y = rng.binomial(1, p).astype(np.float64)
    return p, y, p**power


def test_expected_auc_of_certain_probabilities_is_the_realised_auc() -> None:
    scores = np.array([0.1, 0.4, 0.35, 0.8, 0.7, 0.2])
    labels = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0])
    assert expected_roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))


def test_expected_auc_groups_tied_scores_into_one_step() -> None:
    # one threshold only: the curve goes straight from (0, 0) to (1, 1)
    assert expected_roc_auc([0.2, 0.9, 0.5], [0.3, 0.3, 0.3]) == pytest.approx(0.5)
    # with certain labels ties count half, as for the realised AUC
    labels, scores = np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.1, 0.5, 0.5, 0.9])
    assert expected_roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))


def test_expected_auc_is_undefined_without_expected_positives() -> None:
    assert expected_roc_auc([0.0, 0.0], [0.1, 0.2]) is None
    assert expected_roc_auc([1.0, 1.0], [0.1, 0.2]) is None


def test_calibrated_scores_estimate_realised_auc_within_the_band() -> None:
    _, ref_y, ref_s = _population(20_000, seed=0)
    cbpe = CBPE().fit(ref_s, ref_y)
    misses = []
    for seed in range(1, 11):
        _, y, s = _population(5_000, seed=seed)
        estimate = cbpe.estimate(s)
        realised = realised_performance(y, s)
        assert estimate.roc_auc.value is not None and realised.roc_auc is not None
        assert abs(estimate.roc_auc.value - realised.roc_auc) < 0.03
        assert abs(estimate.accuracy.value - realised.accuracy) < 0.03  # type: ignore[operator]
        lower, upper = estimate.roc_auc.lower, estimate.roc_auc.upper
        assert lower is not None and upper is not None
        misses.append(not lower <= realised.roc_auc <= upper)
    assert sum(misses) <= 1  # ±3 SD: a miss in 10 windows is already unlikely


def test_isotonic_calibration_repairs_overconfident_scores() -> None:
    _, ref_y, ref_s = _population(20_000, seed=0, power=3.0)
    _, y, s = _population(5_000, seed=1, power=3.0)
    realised = realised_performance(y, s)
    calibrated = CBPE(calibration="isotonic").fit(ref_s, ref_y).estimate(s, threshold=0.1)
    raw = CBPE(calibration="none").fit(ref_s, ref_y).estimate(s, threshold=0.1)
    assert calibrated.calibration == "isotonic" and raw.calibration == "identity"
    assert realised.roc_auc is not None
    assert abs(calibrated.roc_auc.value - realised.roc_auc) < 0.02  # type: ignore[operator]
    assert abs(raw.roc_auc.value - realised.roc_auc) > 0.05  # type: ignore[operator]
    assert calibrated.positive_rate == pytest.approx(y.mean(), abs=0.02)


def test_covariate_shift_is_followed() -> None:
    """The inputs move (more high-risk rows) but P(y | score) does not: CBPE follows."""
    _, ref_y, ref_s = _population(20_000, seed=0)
    cbpe = CBPE().fit(ref_s, ref_y)
    _, y, s = _population(5_000, seed=2, a=2.0, b=2.0)
    estimate, realised = cbpe.estimate(s), realised_performance(y, s)
    reference_auc = roc_auc_score(ref_y, ref_s)
    assert realised.roc_auc is not None and abs(realised.roc_auc - reference_auc) > 0.03
    assert estimate.roc_auc.value == pytest.approx(realised.roc_auc, abs=0.025)
    assert estimate.recall.value == pytest.approx(realised.recall, abs=0.03)


def test_confusion_counts_sum_to_n_and_match_the_metrics() -> None:
    _, ref_y, ref_s = _population(5_000, seed=0)
    estimate = CBPE().fit(ref_s, ref_y).estimate(_population(1_234, seed=3)[2], threshold=0.3)
    tp, fp, tn, fn = (c.value for c in (estimate.tp, estimate.fp, estimate.tn, estimate.fn))
    assert tp is not None and fp is not None and tn is not None and fn is not None
    assert tp + fp + tn + fn == pytest.approx(1_234)
    assert min(tp, fp, tn, fn) >= 0
    assert estimate.accuracy.value == pytest.approx((tp + tn) / 1_234)
    assert estimate.precision.value == pytest.approx(tp / (tp + fp))
    assert estimate.recall.value == pytest.approx(tp / (tp + fn))
    assert estimate.f1.value == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert estimate.positive_rate == pytest.approx((tp + fn) / 1_234)
    for count in (estimate.tp, estimate.fp, estimate.tn, estimate.fn):
        assert count.lower is not None and count.upper is not None
        assert 0 <= count.lower <= count.value <= count.upper <= 1_234  # type: ignore[operator]


def test_sampling_error_matches_the_spread_of_realised_metrics() -> None:
    """Sampling error = SD of the metric over windows of that size; checked by simulation."""
    _, ref_y, ref_s = _population(20_000, seed=0)
    cbpe = CBPE(calibration="none").fit(ref_s, ref_y)
    window = 1_000
    aucs, accuracies, recalls = [], [], []
    for seed in range(300):
        _, y, s = _population(window, seed=1_000 + seed)
        predicted = s >= 0.5
        aucs.append(roc_auc_score(y, s))
        accuracies.append(np.mean(predicted == y))
        recalls.append(predicted[y == 1].mean())
    estimate = cbpe.estimate(_population(window, seed=1)[2])
    # NannyML's AUC sampling error (minority-class term only) is 13% low here
    assert estimate.roc_auc.sampling_error == pytest.approx(np.std(aucs), rel=0.08)
    assert estimate.accuracy.sampling_error == pytest.approx(np.std(accuracies), rel=0.1)
    assert estimate.recall.sampling_error == pytest.approx(np.std(recalls), rel=0.1)


def test_sampling_error_shrinks_with_the_square_root_of_the_window() -> None:
    _, ref_y, ref_s = _population(5_000, seed=0)
    cbpe = CBPE().fit(ref_s, ref_y)
    small = cbpe.estimate(_population(500, seed=1)[2])
    large = cbpe.estimate(_population(2_000, seed=2)[2])
    for name in ("roc_auc", "accuracy", "precision", "recall", "f1"):
        ratio = getattr(small, name).sampling_error / getattr(large, name).sampling_error
        assert ratio == pytest.approx(2.0), name
    assert small.tp.sampling_error is not None and large.tp.sampling_error is not None
    assert small.tp.sampling_error / large.tp.sampling_error == pytest.approx(0.5)


def test_bands_are_three_sampling_errors_clipped_to_the_unit_interval() -> None:
    rng = np.random.default_rng(0)
    ref_s = np.r_[rng.uniform(0.0, 0.02, 500), rng.uniform(0.98, 1.0, 500)]
    cbpe = CBPE(calibration="none").fit(ref_s, (ref_s > 0.5).astype(float))
    estimate = cbpe.estimate(ref_s[::10])
    accuracy = estimate.accuracy
    assert accuracy.value is not None and accuracy.sampling_error is not None
    assert accuracy.upper == pytest.approx(min(1.0, accuracy.value + 3 * accuracy.sampling_error))
    assert accuracy.upper is not None and accuracy.upper <= 1.0
    assert accuracy.lower == pytest.approx(accuracy.value - 3 * accuracy.sampling_error)
    wide = CBPE(calibration="none", band_width=1.0).fit(ref_s, ref_s > 0.5).estimate(ref_s)
    assert wide.f1.upper - wide.f1.value == pytest.approx(wide.f1.sampling_error)  # type: ignore[operator]


def test_auto_calibration_falls_back_to_the_identity_on_a_small_reference() -> None:
    _, y, s = _population(300, seed=0, power=3.0)
    assert CBPE().fit(s, y).calibration_ == "identity"
    _, y, s = _population(5_000, seed=0, power=3.0)
    assert CBPE().fit(s, y).calibration_ == "isotonic"
    assert CBPE(min_calibration_rows=10_000).fit(s, y).calibration_ == "identity"
    rare = np.r_[np.ones(3), np.zeros(997)]  # too few positives for 5 folds
    scores = np.r_[np.full(3, 0.9), np.linspace(0.0, 0.5, 997)]
    assert CBPE().fit(scores, rare).calibration_ == "identity"
    assert CBPE(calibration="isotonic").fit(scores, rare).calibration_ == "isotonic"


def test_missing_scores_are_dropped_and_counted() -> None:
    _, ref_y, ref_s = _population(2_000, seed=0)
    ref_s = ref_s.copy()
    ref_s[:10] = np.nan
    cbpe = CBPE().fit(ref_s, ref_y)
    scores = _population(100, seed=1)[2]
    scores[::4] = np.nan
    estimate = cbpe.estimate(scores)
    assert (estimate.n, estimate.n_dropped) == (75, 25)
    assert np.isnan(cbpe.calibrate([np.nan, 0.5])[0])


def test_nothing_predicted_positive_leaves_precision_undefined() -> None:
    _, ref_y, ref_s = _population(2_000, seed=0)
    estimate = CBPE().fit(ref_s, ref_y).estimate([0.01, 0.02, 0.03], threshold=0.99)
    assert estimate.precision.value is None and estimate.precision.lower is None
    assert estimate.finding is not None and "precision" in estimate.finding
    assert estimate.f1.value == 0.0
    json.dumps(estimate.to_dict(), allow_nan=False)


def test_strict_json() -> None:
    _, ref_y, ref_s = _population(2_000, seed=0)
    payload = CBPE().fit(ref_s, ref_y).estimate(_population(500, seed=1)[2]).to_dict()
    text = json.dumps(payload, allow_nan=False)
    assert set(payload) >= {"n", "tp", "roc_auc", "calibration", "finding"}
    assert set(payload["roc_auc"]) == {"value", "sampling_error", "lower", "upper"}
    assert "NaN" not in text


@pytest.mark.parametrize(
    ("scores", "labels", "match"),
    [
        ([0.1, 0.9, 0.2, 0.8], [0, 1, 1], "4 reference scores but 3"),
        ([0.1, 0.9, 0.2, 0.8], [0, 1, 2, 1], "labels must be 0 or 1"),
        ([0.1, 1.5, 0.2, 0.8], [0, 1, 0, 1], "probabilities in \\[0, 1\\]"),
        ([0.1, 0.9, 0.2, 0.8], [0, 0, 0, 1], "two rows of each class"),
        ([0.1, np.nan, 0.2, 0.8], [0, 1, 0, 1], "two rows of each class"),
        ([], [], "not enough data"),
    ],
)
def test_invalid_reference(scores: list[float], labels: list[float], match: str) -> None:
    with pytest.raises(MonitoringError, match=match):
        CBPE().fit(scores, labels)


def test_invalid_use() -> None:
    with pytest.raises(MonitoringError, match="call fit"):
        CBPE().estimate([0.5])
    with pytest.raises(MonitoringError, match="calibration must be"):
        CBPE(calibration="platt").fit([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])  # type: ignore[arg-type]
    cbpe = CBPE().fit([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])
    with pytest.raises(MonitoringError, match="not enough data"):
        cbpe.estimate([np.nan])
    with pytest.raises(MonitoringError, match="not enough data"):
        cbpe.estimate([])
    with pytest.raises(MonitoringError, match="probabilities"):
        cbpe.estimate([0.5, -0.1])


@pytest.mark.filterwarnings("ignore:The resulting number of chunks is too low")
def test_same_estimates_and_sampling_errors_as_nannyml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NML_DISABLE_USAGE_LOGGING", "1")
    nml = pytest.importorskip("nannyml")
    threshold, chunk = 0.2, 2_000

    def frame(n: int, seed: int) -> pd.DataFrame:
        _, y, s = _population(n, seed=seed, power=2.0)  # miscalibrated: both calibrate
        return pd.DataFrame({"s": s, "y": y.astype(int), "pred": (s >= threshold).astype(int)})

    reference, analysis = frame(5_000, seed=0), frame(3 * chunk, seed=1)
    metrics = ["roc_auc", "f1", "accuracy", "precision", "recall"]
    theirs = nml.CBPE(
        y_pred_proba="s",
        y_pred="pred",
        y_true="y",
        metrics=metrics,
        chunk_size=chunk,
        problem_type="classification_binary",
    )
    theirs.fit(reference)
    table = theirs.estimate(analysis).filter(period="analysis").to_df()
    assert theirs.needs_calibration
    ours = CBPE(calibration="isotonic").fit(reference["s"], reference["y"])
    for i in range(3):
        estimate = ours.estimate(analysis["s"].iloc[i * chunk : (i + 1) * chunk], threshold=0.2)
        for name in metrics:
            mine = getattr(estimate, name)
            assert mine.value == pytest.approx(table[(name, "value")][i], abs=1e-6), name
            if name != "roc_auc":
                expected = table[(name, "sampling_error")][i]
                assert mine.sampling_error == pytest.approx(expected, rel=1e-9), name
        # NannyML keeps one of DeLong's two variance terms: our AUC band is a little wider
        their_error = table[("roc_auc", "sampling_error")][i]
        assert their_error < estimate.roc_auc.sampling_error < 1.5 * their_error
    assert math.isfinite(table[("roc_auc", "value")][0])
