"""The estimator allow-list of ``train`` steps and binary classification scoring.

Every estimator is a scikit-learn :class:`~sklearn.pipeline.Pipeline`: a
:class:`~sklearn.compose.ColumnTransformer` that encodes string and
categorical columns and passes numbers through, then the classifier.

================================  =====================================================
estimator                         preprocessing
================================  =====================================================
``hist_gradient_boosting``        categories -> OrdinalEncoder (unknown and missing
                                  -> -1, which the model treats as missing), declared
                                  categorical; numbers passthrough (NaN native)
``random_forest``                 same encoding (ordinal codes as numbers); numbers
                                  passthrough (NaN native since scikit-learn 1.4)
``logistic_regression``           categories -> most-frequent imputation + one-hot
                                  (unknown ignored); numbers -> median imputation +
                                  standard scaling
================================  =====================================================

``random_state`` defaults to 0 where the estimator takes one, so a rerun with
the same data and params fits the same model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from loopml.errors import ConfigurationError, DataError

__all__ = ["build_estimator", "score_binary", "split_columns"]


def split_columns(frame: pd.DataFrame, *, step: str) -> tuple[list[str], list[str]]:
    """Split feature columns into (categorical, numeric); booleans count as numeric.

    Raises
    ------
    DataError
        If a feature is a datetime (derive numeric features from it first).
    """
    categorical, numeric = [], []
    for name in frame.columns:
        dtype = frame[name].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            raise DataError(
                f"step {step!r}: feature {name!r} is a datetime; derive numeric features from it"
            )
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            numeric.append(str(name))
        else:
            categorical.append(str(name))
    return categorical, numeric


def _ordinal() -> OrdinalEncoder:
    return OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
    )


def build_estimator(
    name: str, params: dict[str, Any], features: pd.DataFrame, *, step: str
) -> Pipeline:
    """An unfitted preprocessing + classifier pipeline for the columns of ``features``.

    Parameters
    ----------
    name : str
        One of :data:`loopml.pipeline.spec.ESTIMATORS`.
    params : dict
        Keyword arguments of the classifier (``max_iter``, ``C``, ``n_estimators`` ...).
    features : DataFrame
        Training features; only dtypes are read.
    step : str
        Step name, for error messages.

    Raises
    ------
    ConfigurationError
        If ``name`` is unknown or a param is not accepted by the classifier.
    """
    categorical, numeric = split_columns(features, step=step)
    params = dict(params)
    if name == "hist_gradient_boosting":
        model: Any = HistGradientBoostingClassifier(
            categorical_features=list(range(len(categorical))) or None
        )
        encode: Any = _ordinal()
        numbers: Any = "passthrough"
    elif name == "random_forest":
        model, encode, numbers = RandomForestClassifier(), _ordinal(), "passthrough"
    elif name == "logistic_regression":
        model = LogisticRegression(max_iter=1000)
        encode = make_pipeline(
            SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
        )
        numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    else:
        raise ConfigurationError(f"step {step!r}: unknown estimator {name!r}")
    if "random_state" in model.get_params():
        params.setdefault("random_state", 0)
    try:
        model.set_params(**params)
    except ValueError as exc:
        raise ConfigurationError(f"step {step!r}: param 'estimator_params': {exc}") from exc
    columns = ColumnTransformer(
        [("categorical", encode, categorical), ("numeric", numbers, numeric)],
        verbose_feature_names_out=False,
    )
    return Pipeline([("columns", columns), ("model", model)])


def score_binary(
    y: np.ndarray,
    proba: np.ndarray,
    classes: Sequence[Any],
    metrics: Sequence[str],
    *,
    step: str,
) -> dict[str, float]:
    """ROC AUC, accuracy and log loss of binary probabilities.

    Parameters
    ----------
    y : array of shape (n_samples,)
        True labels (values from ``classes``).
    proba : array of shape (n_samples, 2)
        Predicted probabilities, columns in ``classes`` order; the second
        class is the positive one.
    classes : sequence of length 2
    metrics : sequence of str
        Subset of ``roc_auc``, ``accuracy``, ``log_loss``.
    step : str
        Step name, for error messages.

    Raises
    ------
    DataError
        If the data is not binary, or ROC AUC is asked for on a single class.

    References
    ----------
    .. [1] T. Fawcett, "An introduction to ROC analysis", Pattern Recognition
       Letters 27(8), 2006.
    """
    classes = list(classes)
    if len(classes) != 2 or proba.ndim != 2 or proba.shape[1] != 2:
        raise DataError(f"step {step!r}: evaluation needs a binary classifier, got {classes}")
    positive = classes[1]
    truth = np.asarray(y) == positive
    scores: dict[str, float] = {}
    if "roc_auc" in metrics:
        if truth.all() or not truth.any():
            raise DataError(f"step {step!r}: the test split holds one class only; no ROC AUC")
        scores["roc_auc"] = float(roc_auc_score(truth, proba[:, 1]))
    if "accuracy" in metrics:
        predicted = proba[:, 1] >= 0.5
        scores["accuracy"] = float(accuracy_score(truth, predicted))
    if "log_loss" in metrics:
        scores["log_loss"] = float(log_loss(truth, proba[:, 1], labels=[False, True]))
    return scores
