from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loopml.errors import ModelPackageError
from loopml.models import Manifest
from loopml.schema import ColumnSchema, LogicalType, Schema


def _manifest() -> Manifest:
    return Manifest(
        flavor="sklearn",
        format="skops",
        model_file="model.skops",
        schema=Schema((ColumnSchema(0, LogicalType.FLOAT, True, 0.0, 1.0),)),
        metrics={"auc": 0.75, "log_loss": None},
        requirements={"python": "3.11.7", "scikit-learn": "1.9.1"},
        task={"type": "classification", "classes": ["no", "yes"]},
        files={"model.skops": "ab" * 32},
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        extra={"run_id": "r1"},
    )


def test_json_round_trip() -> None:
    manifest = _manifest()
    assert Manifest.from_json(manifest.to_json()) == manifest
    assert manifest.classes == ("no", "yes")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": 2}, "format_version 2"),
        ({"files": ["model.skops"]}, "'files'"),
        ({"created_at": "yesterday"}, "malformed"),
        ({"schema": {"columns": "x"}}, "malformed"),
    ],
)
def test_malformed_manifests_are_refused(change: dict[str, object], message: str) -> None:
    data = _manifest().to_dict()
    data.update(change)
    with pytest.raises(ModelPackageError, match=message):
        Manifest.from_dict(data)


def test_missing_field_named() -> None:
    data = _manifest().to_dict()
    del data["model_file"]
    with pytest.raises(ModelPackageError, match="'model_file'"):
        Manifest.from_dict(data)
