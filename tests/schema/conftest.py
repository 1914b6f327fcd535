"""Awkward frames shared by the schema tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def awkward_frames() -> dict[str, pd.DataFrame]:
    """Frames that must each validate against their own inferred schema."""
    return {
        "nullable_int": pd.DataFrame({"x": pd.array([1, None, 3], dtype="Int64")}),
        "bool_with_na": pd.DataFrame({"b": pd.array([True, None, False], dtype="boolean")}),
        "numpy_bool": pd.DataFrame({"b": np.array([True, False, True])}),
        "category": pd.DataFrame(
            {"c": pd.Categorical(["a", None, "b"], categories=["b", "a", "z"])}
        ),
        "int_category": pd.DataFrame({"c": pd.Categorical([3, 1, None])}),
        "strings_with_none": pd.DataFrame({"s": pd.Series(["x", None, "y"], dtype=object)}),
        "pandas_str": pd.DataFrame({"s": pd.Series(["x", None, "y"], dtype="str")}),
        "integer_labels": pd.DataFrame(np.arange(6.0).reshape(3, 2)),
        "naive_datetime": pd.DataFrame({"t": pd.to_datetime(["2013-01-01", None, "2013-06-01"])}),
        "aware_datetime": pd.DataFrame(
            {
                "t": pd.to_datetime(["2013-01-01T05:00Z", "2013-01-02T06:00Z"]).tz_convert(
                    "America/New_York"
                )
            }
        ),
        "float_nan": pd.DataFrame({"f": [0.5, np.nan, -2.0]}),
        "float_inf": pd.DataFrame({"f": [0.5, np.inf, -np.inf]}),
        "all_nan": pd.DataFrame({"f": [np.nan, np.nan]}),
        "empty": pd.DataFrame(),
        "empty_with_columns": pd.DataFrame(
            {"a": pd.Series([], dtype=float), "s": pd.Series([], dtype=object)}
        ),
        "constant": pd.DataFrame({"k": [7, 7, 7], "s": ["same"] * 3}),
        "high_cardinality": pd.DataFrame({"id": [f"id{i}" for i in range(80)]}),
        "object_numbers": pd.DataFrame({"o": pd.Series([1, 2.5, None], dtype=object)}),
        "uint8": pd.DataFrame({"u": np.array([0, 255], dtype=np.uint8)}),
        "mixed_labels": pd.DataFrame({0: [1, 2], "0x": [1.0, 2.0]}),
    }


@pytest.fixture(params=sorted(awkward_frames()))
def awkward_frame(request: pytest.FixtureRequest) -> pd.DataFrame:
    return awkward_frames()[request.param]
