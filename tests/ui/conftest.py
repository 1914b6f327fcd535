"""A monitoring report on synthetic windows where ``income`` and ``city`` drift."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopml.monitoring import MonitoringReport, compute_drift, realised_performance
from loopml.schema import ColumnSchema, LogicalType, Schema


def _frame(n: int, *, shifted: bool, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40.0, 10.0, n),
            "income": rng.lognormal(10.5 if shifted else 10.0, 0.4, n),
            "city": rng.choice(
                ["paris", "lyon", "nice"], n, p=[0.2, 0.3, 0.5] if shifted else [0.5, 0.3, 0.2]
            ),
            "note": [f"free text {seed}-{i}" for i in range(n)],  # identifier-like: not tested
        }
    )


SCHEMA = Schema(
    columns=(
        ColumnSchema("age", LogicalType.FLOAT, nullable=True),
        ColumnSchema("income", LogicalType.FLOAT, nullable=True),
        ColumnSchema(
            "city", LogicalType.CATEGORICAL, nullable=True, categories=("lyon", "nice", "paris")
        ),
        ColumnSchema("note", LogicalType.STRING, nullable=True),
    )
)


@pytest.fixture
def windows() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reference, current) frames."""
    return _frame(600, shifted=False, seed=11), _frame(400, shifted=True, seed=12)


@pytest.fixture
def report_dict(windows: tuple[pd.DataFrame, pd.DataFrame]) -> dict[str, Any]:
    """``MonitoringReport.to_dict()`` of the two windows, with realised performance."""
    reference, current = windows
    report = MonitoringReport(
        model="churn",
        version=7,
        alias="champion",
        drift=compute_drift(reference, current, SCHEMA),
        performance=realised_performance([0, 1, 1, 0, 1], [0.2, 0.8, 0.25, 0.3, 0.9]),
        labelled_rows=5,
    )
    return report.to_dict()
