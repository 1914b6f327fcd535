"""Fitted models of the kinds the demo trains, on a slice of the demo data."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from loopml.data.demo import FLIGHTS_CATEGORICAL, FLIGHTS_FEATURES, FLIGHTS_LABEL, load_flights
from loopml.schema import Schema, infer_schema


@pytest.fixture(scope="session")
def flights_slice() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, later): 4000 early flights to fit on, 1500 later ones to score."""
    flights = load_flights()
    return flights.iloc[:4000].reset_index(drop=True), flights.iloc[-1500:].reset_index(drop=True)


def demo_pipeline(encoder: str) -> Pipeline:
    """The demo's model: encode categoricals, pass numbers through, gradient boosting."""
    encoders: dict[str, Any] = {
        "onehot": OneHotEncoder(handle_unknown="ignore", sparse_output=False),
        "ordinal": OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
        ),
    }
    prep = ColumnTransformer(
        [("categorical", encoders[encoder], list(FLIGHTS_CATEGORICAL))], remainder="passthrough"
    )
    model = HistGradientBoostingClassifier(max_iter=25, random_state=0)
    return Pipeline([("prep", prep), ("model", model)])


@pytest.fixture(scope="session", params=["onehot", "ordinal"])
def fitted_demo(
    request: pytest.FixtureRequest, flights_slice: tuple[pd.DataFrame, pd.DataFrame]
) -> tuple[Pipeline, Schema]:
    train, _ = flights_slice
    features = train[list(FLIGHTS_FEATURES)]
    pipeline = demo_pipeline(request.param).fit(features, train[FLIGHTS_LABEL])
    return pipeline, infer_schema(features)
