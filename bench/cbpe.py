"""Validate CBPE on real data: estimated against realised ROC AUC, month by month.

Run::

    PYTHONPATH=src python bench/cbpe.py [--json]

The shipped flights data (NYC 2013, label ``delayed``) is split by scheduled
departure time in New York local time: January to March trains a scikit-learn
``HistGradientBoostingClassifier``; April is the labelled reference on which
:class:`loopml.monitoring.CBPE` calibrates; May to December are scored and
cut into monthly windows by :func:`performance_by_window`, which puts the
estimate without labels beside the realised performance (every label is
known here, as if all feedback had arrived).

``month`` is left out of the features: trained on January to March, it would
be outside its training range in every later window by construction.

Printed: one row per month with the realised ROC AUC, the CBPE estimate and
its ±3 SD band, the absolute error, whether the realised value lies in the
band, the realised and expected positive (delay) rates; then the mean
absolute error of CBPE and, for comparison, of the naive forecast "ROC AUC
stays at its reference value". ``--json`` adds one JSON object as the last
line.

The protocol runs twice. First on the real label, where CBPE's assumption
(``P(y | score)`` as on the reference) is broken by seasonal concept drift.
Then on a semi-synthetic label that keeps the real inputs and their
covariate shift but fixes ``P(y | x)``: a "teacher" gradient-boosting model
fitted on the whole year, on the same features as the student (a feature
the student cannot see, such as ``month``, would bring the concept drift
back), gives ``p(x)``, and the label is drawn as ``Bernoulli(p(x))`` (seed
0). The student model and CBPE then run the same protocol; only the concept
drift is gone. Last, the same semi-synthetic labels with the teacher's
``p(x)`` itself as the score: then ``P(y | score) = score`` in every month,
the one case in which CBPE's assumption holds exactly, so its error should
be sampling noise inside the bands.
Training runs on one thread (``OMP_NUM_THREADS=1``); the whole run takes
well under two minutes on two cores.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from loopml.data.demo import FLIGHTS_FEATURES, FLIGHTS_LABEL, FLIGHTS_TIME, load_flights  # noqa: E402
from loopml.monitoring.cbpe import CBPE  # noqa: E402
from loopml.monitoring.windows import performance_by_window  # noqa: E402

FEATURES = [c for c in FLIGHTS_FEATURES if c != "month"]
SYNTHETIC = "delayed_synthetic"
TEACHER = "teacher_score"
LOCAL = "America/New_York"
TRAIN_END = pd.Timestamp("2013-04-01", tz=LOCAL)
REFERENCE_END = pd.Timestamp("2013-05-01", tz=LOCAL)


def validate(flights: pd.DataFrame, label: str, score: str | None = None) -> dict[str, Any]:
    """Train, calibrate and estimate with ``label`` as the target (protocol in the docstring).

    With ``score`` the column is used as the model's score and nothing is trained.
    """
    when = flights[FLIGHTS_TIME].dt.tz_convert(LOCAL)
    train = flights[when < TRAIN_END]
    reference = flights[(when >= TRAIN_END) & (when < REFERENCE_END)]
    current = flights[when >= REFERENCE_END].reset_index(drop=True)
    current_when = when[when >= REFERENCE_END].reset_index(drop=True)

    if score is None:
        model = HistGradientBoostingClassifier(
            max_iter=300,
            learning_rate=0.05,
            min_samples_leaf=200,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=0,
        )
        model.fit(train[FEATURES], train[label])
        reference_scores = model.predict_proba(reference[FEATURES])[:, 1]
        current_scores = model.predict_proba(current[FEATURES])[:, 1]
    else:
        reference_scores = reference[score].to_numpy()
        current_scores = current[score].to_numpy()
    reference_auc = float(roc_auc_score(reference[label], reference_scores))
    cbpe = CBPE().fit(reference_scores, reference[label])

    predictions = pd.DataFrame(
        {
            "request_id": np.arange(len(current)),
            "timestamp": current_when,
            "score": current_scores,
        }
    )
    feedback = pd.DataFrame(
        {
            "request_id": predictions["request_id"],
            "label": current[label],
            "timestamp": current_when + pd.Timedelta(days=1),
        }
    )
    windows = performance_by_window(predictions, feedback, freq="MS", estimator=cbpe)

    rows: list[dict[str, Any]] = []
    for window in windows.windows:
        realised, estimated = window.performance, window.estimated
        if realised is None or estimated is None or realised.roc_auc is None:
            continue
        auc = estimated.roc_auc
        assert auc.value is not None and auc.lower is not None and auc.upper is not None
        rows.append(
            {
                "month": window.start.strftime("%Y-%m"),
                "n": window.n_predictions,
                "realised_auc": realised.roc_auc,
                "estimated_auc": auc.value,
                "lower": auc.lower,
                "upper": auc.upper,
                "abs_error": abs(auc.value - realised.roc_auc),
                "in_band": auc.lower <= realised.roc_auc <= auc.upper,
                "positive_rate": realised.positives / realised.n,
                "expected_positive_rate": estimated.positive_rate,
            }
        )
    errors = [float(r["abs_error"]) for r in rows]
    realised_aucs = [float(r["realised_auc"]) for r in rows]
    return {
        "label": label,
        "train_rows": len(train),
        "reference_rows": len(reference),
        "reference_auc": reference_auc,
        "reference_positive_rate": float(reference[label].mean()),
        "calibration": cbpe.calibration_,
        "mae": float(np.mean(errors)),
        "naive_mae": float(np.mean([abs(a - reference_auc) for a in realised_aucs])),
        "in_band": sum(r["in_band"] for r in rows),
        "months": rows,
    }


def report(result: dict[str, Any], title: str) -> None:
    """Print one validation as a Markdown table and a summary."""
    print(f"\n## {title}")
    print(
        f"train {result['train_rows']:,} rows (2013-01..03), reference "
        f"{result['reference_rows']:,} rows (2013-04), calibration {result['calibration']}, "
        f"reference ROC AUC {result['reference_auc']:.4f}, "
        f"reference positive rate {result['reference_positive_rate']:.3f}\n"
    )
    print(
        "| month | rows | realised AUC | CBPE AUC | band (±3 SD) | abs error | in band "
        "| positive rate | expected positive rate |"
    )
    print("|---|---:|---:|---:|---|---:|---|---:|---:|")
    for r in result["months"]:
        print(
            f"| {r['month']} | {r['n']:,} | {r['realised_auc']:.4f} | {r['estimated_auc']:.4f} "
            f"| {r['lower']:.4f}–{r['upper']:.4f} | {r['abs_error']:.4f} "
            f"| {'yes' if r['in_band'] else 'no'} | {r['positive_rate']:.3f} "
            f"| {r['expected_positive_rate']:.3f} |"
        )
    months = len(result["months"])
    print(f"\nCBPE ROC AUC mean absolute error: {result['mae']:.4f} over {months} months")
    print(
        f"naive (reference AUC {result['reference_auc']:.4f} carried forward) MAE: "
        f"{result['naive_mae']:.4f}"
    )
    print(f"months with the realised AUC inside the band: {result['in_band']}/{months}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print a JSON summary last")
    args = parser.parse_args()
    started = time.perf_counter()

    flights = load_flights()
    real = validate(flights, FLIGHTS_LABEL)
    report(real, "Real labels: delayed")

    teacher = HistGradientBoostingClassifier(max_iter=100, random_state=0)
    teacher.fit(flights[FEATURES], flights[FLIGHTS_LABEL])
    flights[TEACHER] = teacher.predict_proba(flights[FEATURES])[:, 1]
    rng = np.random.default_rng(0)
    flights[SYNTHETIC] = rng.binomial(1, flights[TEACHER])
    synthetic = validate(flights, SYNTHETIC)
    report(synthetic, "Semi-synthetic labels, student model: P(y | x) fixed, covariate shift only")
    oracle = validate(flights, SYNTHETIC, score=TEACHER)
    report(oracle, "Semi-synthetic labels, teacher's own scores: P(y | score) fixed")

    elapsed = time.perf_counter() - started
    print(f"\nelapsed {elapsed:.1f} s")
    if args.json:
        summary = {
            "real": real,
            "semi_synthetic_student": synthetic,
            "semi_synthetic_teacher": oracle,
            "elapsed_s": elapsed,
        }
        print(json.dumps(summary, allow_nan=False))


if __name__ == "__main__":
    main()
