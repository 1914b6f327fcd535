from __future__ import annotations

import loopml.schema


def test_public_names_are_pinned() -> None:
    assert sorted(loopml.schema.__all__) == [
        "ColumnName",
        "ColumnSchema",
        "LogicalType",
        "Schema",
        "Violation",
        "ViolationKind",
        "conform",
        "infer_schema",
        "validate",
    ]
    for name in loopml.schema.__all__:
        assert getattr(loopml.schema, name) is not None
