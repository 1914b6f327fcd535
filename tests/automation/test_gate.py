"""The challenger gate's paired bootstrap, checked against sklearn, scipy and exact enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

from loopml.automation.gate import paired_bootstrap, weighted_metric
from loopml.errors import MonitoringError


def _data(n: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(float)
    champion = np.round(y * 0.6 + rng.normal(0, 0.5, n), 1)  # rounded: many ties
    challenger = np.round(y * 0.9 + rng.normal(0, 0.5, n), 1)
    return y, champion, challenger


def test_weighted_metrics_equal_sklearn_on_repeated_rows() -> None:
    y, a, _ = _data(60)
    p = 1 / (1 + np.exp(-a))
    weights = np.random.default_rng(3).integers(0, 4, size=(3, len(y))).astype(float)
    for row in weights:
        keep = np.repeat(np.arange(len(y)), row.astype(int))
        ry, rs, rp = y[keep], a[keep], p[keep]
        got = {m: weighted_metric(m, y, a if m == "roc_auc" else p, row[None, :])[0]
               for m in ("roc_auc", "accuracy", "f1", "neg_log_loss")}
        assert got["roc_auc"] == pytest.approx(roc_auc_score(ry, rs), abs=1e-12)
        assert got["accuracy"] == pytest.approx(accuracy_score(ry, rp >= 0.5), abs=1e-12)
        assert got["f1"] == pytest.approx(f1_score(ry, rp >= 0.5), abs=1e-12)
        assert got["neg_log_loss"] == pytest.approx(-log_loss(ry, rp), abs=1e-12)


def test_hand_computed_auc_with_ties() -> None:
    y = np.array([0, 0, 1, 1], dtype=float)
    score = np.array([0.1, 0.5, 0.5, 0.9])
    # pairs (pos, neg): (0.5, 0.1) win, (0.5, 0.5) tie, (0.9, 0.1) win, (0.9, 0.5) win -> 3.5 / 4
    assert weighted_metric("roc_auc", y, score, np.ones((1, 4)))[0] == 0.875
    # the positive 0.5 drawn twice, the negative 0.5 not at all: 2 + 2 wins of 2 * 3 pairs... by hand
    w = np.array([[2.0, 0.0, 2.0, 1.0]])  # negatives {0.1 x2}, positives {0.5 x2, 0.9}
    assert weighted_metric("roc_auc", y, score, w)[0] == 1.0


def test_interval_agrees_with_scipy_paired_bootstrap() -> None:
    y, a, b = _data()
    ours = paired_bootstrap(y, a, b, n_resamples=4000, alpha=0.05, seed=0)
    assert ours.champion == pytest.approx(roc_auc_score(y, a))
    assert ours.challenger == pytest.approx(roc_auc_score(y, b))
    assert ours.delta == pytest.approx(roc_auc_score(y, b) - roc_auc_score(y, a))
    theirs = stats.bootstrap(
        (y, a, b),
        lambda yy, aa, bb: roc_auc_score(yy, bb) - roc_auc_score(yy, aa),
        paired=True,
        vectorized=False,
        n_resamples=4000,
        method="percentile",
        random_state=0,
    ).confidence_interval
    # scipy resamples rows jointly, loopml within each class: the same interval up to noise
    assert ours.ci_low == pytest.approx(theirs.low, abs=0.006)
    assert ours.ci_high == pytest.approx(theirs.high, abs=0.006)
    assert ours.passed and ours.p_value < 0.05


def test_p_value_matches_exact_enumeration_of_every_resample() -> None:
    """3 positives and 3 negatives: all 27 * 27 stratified resamples are equally likely."""
    y = np.array([0, 0, 0, 1, 1, 1], dtype=float)
    a = np.array([0.2, 0.6, 0.4, 0.5, 0.3, 0.9])
    b = np.array([0.1, 0.3, 0.5, 0.6, 0.7, 0.8])
    neg, pos = [0, 1, 2], [3, 4, 5]
    deltas = []
    for picks in itertools.product(itertools.product(neg, repeat=3), itertools.product(pos, repeat=3)):
        w = np.bincount(np.r_[picks[0], picks[1]], minlength=6).astype(float)[None, :]
        deltas.append(
            weighted_metric("roc_auc", y, b, w)[0] - weighted_metric("roc_auc", y, a, w)[0]
        )
    exact = float(np.mean(np.asarray(deltas) <= 0.05))
    ours = paired_bootstrap(y, a, b, margin=0.05, n_resamples=40_000, seed=7)
    assert ours.p_value == pytest.approx(exact, abs=0.01)
    assert 0.1 < exact < 0.9  # the case is not trivial


def test_identical_models_never_pass_and_the_seed_fixes_the_result() -> None:
    y, a, _ = _data()
    same = paired_bootstrap(y, a, a.copy(), margin=0.0)
    assert same.delta == 0.0 and same.p_value == 1.0 and not same.passed
    assert paired_bootstrap(y, a, a + 0.0, seed=5) == paired_bootstrap(y, a, a + 0.0, seed=5)
    _, _, b = _data()
    assert paired_bootstrap(y, a, b, seed=1) == paired_bootstrap(y, a, b, seed=1)
    assert paired_bootstrap(y, a, b, seed=1).ci_low != paired_bootstrap(y, a, b, seed=2).ci_low


def test_margin_and_significance_decide() -> None:
    y, a, b = _data()
    delta = roc_auc_score(y, b) - roc_auc_score(y, a)
    assert paired_bootstrap(y, a, b, margin=0.0).passed
    # a margin larger than the observed gain can never be shown
    beyond = paired_bootstrap(y, a, b, margin=delta + 0.01)
    assert not beyond.passed and beyond.p_value > 0.5
    # a small sample with a real but small gain: not significant
    small = paired_bootstrap(y[:40], a[:40], b[:40], margin=0.0)
    assert small.ci_low < 0 < small.ci_high and not small.passed
    assert "does not beat" in small.describe() and "p = " in small.describe()


@pytest.mark.parametrize("metric", ["accuracy", "f1", "neg_log_loss"])
def test_other_metrics(metric: str) -> None:
    y, a, b = _data(600)
    pa, pb = 1 / (1 + np.exp(-(a - 0.5) * 3)), 1 / (1 + np.exp(-(b - 0.5) * 3))
    result = paired_bootstrap(y, pa, pb, metric=metric)
    reference = {
        "accuracy": lambda p: accuracy_score(y, p >= 0.5),
        "f1": lambda p: f1_score(y, p >= 0.5),
        "neg_log_loss": lambda p: -log_loss(y, p),
    }[metric]
    assert result.champion == pytest.approx(reference(pa))
    assert result.challenger == pytest.approx(reference(pb))


def test_refusals() -> None:
    y, a, b = _data(50)
    with pytest.raises(MonitoringError, match="metric"):
        paired_bootstrap(y, a, b, metric="rmse")
    with pytest.raises(MonitoringError, match="one length"):
        paired_bootstrap(y, a[:-1], b)
    with pytest.raises(MonitoringError, match="2 rows of each class"):
        paired_bootstrap(np.r_[np.zeros(10), 1.0], np.arange(11.0), np.arange(11.0))
    with pytest.raises(MonitoringError, match="finite"):
        paired_bootstrap(y, np.where(y > 0, np.nan, a), b)
    with pytest.raises(MonitoringError, match="alpha"):
        paired_bootstrap(y, a, b, alpha=1.5)
