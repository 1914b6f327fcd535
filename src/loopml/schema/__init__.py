"""Data contracts: what a table must look like to train or be scored.

A :class:`Schema` lists the columns of a table with their
:class:`LogicalType`, nullability, numeric range and allowed categories. It is
inferred from training data, stored with datasets and model packages, and
enforced wherever data enters:

* :func:`infer_schema` -- the contract a training table satisfies;
* :func:`validate` -- every :class:`Violation` of a table, for data-quality
  reports and monitoring;
* :func:`conform` -- model-ready input from JSON records or a table; raises
  :class:`loopml.errors.SchemaViolationError` on blocking violations only
  (missing column, wrong type, null where not allowed).
"""

from loopml.schema.column import ColumnName, ColumnSchema
from loopml.schema.conform import conform
from loopml.schema.inference import infer_schema
from loopml.schema.schema import Schema
from loopml.schema.types import LogicalType
from loopml.schema.validation import validate
from loopml.schema.violation import Violation, ViolationKind

__all__ = [
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
