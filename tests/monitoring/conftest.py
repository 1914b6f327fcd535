"""Synthetic reference/current windows with a known shift in two of five columns."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from loopml.schema import ColumnSchema, LogicalType, Schema

FrameMaker = Callable[..., pd.DataFrame]


def _make_frame(n: int, *, shifted: bool, seed: int) -> pd.DataFrame:
    """Five features; with ``shifted`` only ``income`` and ``city`` change distribution."""
    rng = np.random.default_rng(seed)
    cities = ["paris", "lyon", "nice"]
    city_p = [0.2, 0.3, 0.5] if shifted else [0.5, 0.3, 0.2]
    return pd.DataFrame(
        {
            "age": rng.normal(40.0, 10.0, n),
            "income": rng.lognormal(10.0 + (0.5 if shifted else 0.0), 0.4, n),
            "city": pd.Series(rng.choice(cities, n, p=city_p), dtype="category"),
            "children": pd.array(rng.integers(0, 4, n), dtype="Int64"),
            "member": rng.random(n) < 0.3,
        }
    )


@pytest.fixture
def schema() -> Schema:
    """The data contract of :func:`make_frame`, plus a string id and a target."""
    return Schema(
        columns=(
            ColumnSchema("age", LogicalType.FLOAT, nullable=True),
            ColumnSchema("income", LogicalType.FLOAT, nullable=True),
            ColumnSchema(
                "city", LogicalType.CATEGORICAL, nullable=True, categories=("lyon", "nice", "paris")
            ),
            ColumnSchema("children", LogicalType.INTEGER, nullable=True),
            ColumnSchema("member", LogicalType.BOOLEAN, nullable=False),
            ColumnSchema("customer_id", LogicalType.STRING, nullable=False),
            ColumnSchema("churned", LogicalType.BOOLEAN, nullable=False),
        ),
        target="churned",
    )


@pytest.fixture
def make_frame() -> FrameMaker:
    """``make_frame(n, *, shifted, seed)``: five features, two of them shifted."""
    return _make_frame
