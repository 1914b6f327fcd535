"""slice_metrics: per-category metrics against scikit-learn, pooling, missing values, small slices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from loopml.automation.slices import MISSING, slice_metrics


def test_metrics_match_scikit_learn_per_slice() -> None:
    rng = np.random.default_rng(3)
    n = 600
    frame = pd.DataFrame({"c": rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])})
    truth = rng.random(n) < 0.3
    score = np.clip(truth * 0.3 + rng.random(n) * 0.7, 0, 1)
    overall, slices = slice_metrics(frame, truth, score, ["c"], min_rows=10)
    assert overall.roc_auc == pytest.approx(roc_auc_score(truth, score))
    assert overall.log_loss == pytest.approx(log_loss(truth, score))
    assert [s.category for s in slices] == ["a", "b", "c"]  # by row count
    for s in slices:
        mask = (frame["c"] == s.category).to_numpy()
        assert s.n == mask.sum() and s.positives == truth[mask].sum()
        assert s.roc_auc == pytest.approx(roc_auc_score(truth[mask], score[mask]))
        assert s.accuracy == pytest.approx(((score[mask] >= 0.5) == truth[mask]).mean())


def test_pooling_missing_small_and_single_class_slices() -> None:
    frame = pd.DataFrame({"c": ["x"] * 40 + ["y"] * 35 + [None] * 30 + ["z1", "z2", "z3"]})
    truth = np.array([True, False] * 20 + [False] * 35 + [True, False] * 15 + [True, True, False])
    score = np.linspace(0.0, 1.0, truth.size)
    _, slices = slice_metrics(frame, truth, score, ["c"], max_categories=3, min_rows=30)
    by = {s.category: s for s in slices}
    assert list(by) == ["x", "y", MISSING, "other (3 categories)"]
    assert by["y"].roc_auc is None and by["y"].finding == "one class only: no ROC AUC"
    assert by["y"].accuracy is not None
    assert by[MISSING].n == 30 and by[MISSING].roc_auc is not None
    other = by["other (3 categories)"]
    assert (other.n, other.positives, other.roc_auc) == (3, 2, None)
    assert other.finding == "fewer than 30 rows" and other.positive_rate == pytest.approx(2 / 3)
