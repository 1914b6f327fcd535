"""Profile a column or a table chunk by chunk, and merge profiles of partitions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeAlias, overload

import numpy as np
import pandas as pd
import pyarrow as pa

from loopml.errors import MonitoringError
from loopml.monitoring.profile._accumulate import (
    Accumulator,
    NumericAccumulator,
    new_accumulator,
    thaw,
)
from loopml.monitoring.profile._convert import label_counts, numeric_values, where
from loopml.monitoring.profile.column import ColumnProfile, ProfileKind
from loopml.monitoring.profile.dataset import DatasetProfile
from loopml.monitoring.profile.settings import ProfileSettings
from loopml.schema import ColumnName, LogicalType, Schema

__all__ = ["DEFAULT_CHUNK_ROWS", "merge", "merge_all", "profile_column", "profile_frame"]

DEFAULT_CHUNK_ROWS = 65_536
"""Rows converted at a time: bounds the temporary memory of profiling."""

_KIND_OF_TYPE: dict[LogicalType, ProfileKind] = {
    LogicalType.INTEGER: "numeric",
    LogicalType.FLOAT: "numeric",
    LogicalType.BOOLEAN: "categorical",
    LogicalType.CATEGORICAL: "categorical",
    LogicalType.STRING: "categorical",
}

Chunk: TypeAlias = "pd.DataFrame | pa.RecordBatch"
FrameLike: TypeAlias = (
    "pd.DataFrame | pa.Table | pa.RecordBatch | pa.RecordBatchReader"
    " | Iterable[pd.DataFrame | pa.Table | pa.RecordBatch]"
)


def _feed(acc: Accumulator, series: pd.Series) -> None:
    if isinstance(acc, NumericAccumulator):
        acc.add(numeric_values(series, name=acc.name))
    else:
        counts, missing = label_counts(series, name=acc.name)
        acc.add(counts, rows=len(series), missing=missing)


def _check_chunk_rows(chunk_rows: int) -> None:
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise MonitoringError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")


def profile_column(
    values: Any,
    kind: ProfileKind,
    *,
    name: ColumnName | None = None,
    settings: ProfileSettings | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> ColumnProfile:
    """Profile one column.

    Parameters
    ----------
    values : array-like of shape (n_rows,)
        A list, NumPy array, pandas Series or pyarrow Array. Missing values
        are ``None``, ``NaN``, ``NaT`` and ``pd.NA``.
    kind : {"numeric", "categorical"}
        ``"numeric"``: numbers (booleans as 0/1); ``±inf`` are counted apart
        and the finite values go into the quantile sketch. ``"categorical"``:
        strings, booleans or numbers, counted by label (rules in
        :mod:`loopml.monitoring.profile._convert`; ``1``, ``1.0`` and ``"1"``
        are one label).
    name : str or int, optional
        Column label, kept in the profile and used in messages.
    settings : ProfileSettings, optional
        Sketch sizes; default ``ProfileSettings()``.
    chunk_rows : int, default 65536
        Rows converted at a time.

    Returns
    -------
    ColumnProfile

    Raises
    ------
    MonitoringError
        If ``values`` is not one-dimensional, ``kind`` is unknown, a numeric
        column holds non-numbers or a categorical one holds values other than
        strings, booleans and numbers; the message names the column.

    Examples
    --------
    >>> profile = profile_column([1.0, 2.0, None, float("inf")], "numeric", name="x")
    >>> profile.count, profile.missing, profile.positive_infinity, profile.maximum
    (4, 1, 1, 2.0)
    >>> profile_column(["a", "b", "a", None], "categorical").category_counts()
    {'a': 2, 'b': 1}
    """
    _check_chunk_rows(chunk_rows)
    if kind not in ("numeric", "categorical"):
        raise MonitoringError(f"{where(name)}: profile kind must be 'numeric' or 'categorical'")
    if isinstance(values, pa.Array | pa.ChunkedArray):
        values = values.to_pandas()
    if not isinstance(values, pd.Series):
        if np.ndim(values) != 1:
            raise MonitoringError(f"{where(name)}: values must be 1-D, got {np.shape(values)}")
        values = pd.Series(values)
    acc = new_accumulator(name, kind, settings or ProfileSettings())
    for start in range(0, len(values), chunk_rows):
        _feed(acc, values.iloc[start : start + chunk_rows])
    return acc.freeze()


def _kinds(columns: Schema | Mapping[ColumnName, ProfileKind]) -> dict[ColumnName, ProfileKind]:
    if isinstance(columns, Schema):
        return {
            c.name: _KIND_OF_TYPE[c.logical_type]
            for c in columns.columns
            if c.logical_type in _KIND_OF_TYPE
        }
    kinds = dict(columns)
    for name, kind in kinds.items():
        if kind not in ("numeric", "categorical"):
            raise MonitoringError(
                f"{where(name)}: profile kind must be 'numeric' or 'categorical', got {kind!r}"
            )
    return kinds


def _slices(chunk: Any, chunk_rows: int) -> Iterator[Chunk]:
    if isinstance(chunk, pd.DataFrame):
        for start in range(0, len(chunk), chunk_rows):
            yield chunk.iloc[start : start + chunk_rows]
    elif isinstance(chunk, pa.Table):
        yield from chunk.to_batches(max_chunksize=chunk_rows)
    elif isinstance(chunk, pa.RecordBatch):
        for start in range(0, chunk.num_rows, chunk_rows):
            yield chunk.slice(start, chunk_rows)
    else:
        raise MonitoringError(
            "profile_frame reads pandas DataFrames, pyarrow Tables and RecordBatches "
            f"(or an iterable of them), got {type(chunk).__name__}"
        )


def _chunks(data: Any, chunk_rows: int) -> Iterator[Chunk]:
    if isinstance(data, pd.DataFrame | pa.Table | pa.RecordBatch):
        yield from _slices(data, chunk_rows)
        return
    if not isinstance(data, pa.RecordBatchReader) and hasattr(data, "__arrow_c_stream__"):
        data = pa.RecordBatchReader.from_stream(data)  # polars and other Arrow producers
    if isinstance(data, str | bytes | Mapping) or not isinstance(data, Iterable):
        raise MonitoringError(f"cannot profile an object of type {type(data).__name__}")
    for item in data:
        yield from _slices(item, chunk_rows)


def _column(chunk: Chunk, name: ColumnName, index: int) -> pd.Series:
    if isinstance(chunk, pd.DataFrame):
        if name not in chunk.columns:
            raise MonitoringError(f"{where(name)} is missing from chunk {index} of the data")
        column = chunk[name]
        if isinstance(column, pd.DataFrame):
            raise MonitoringError(f"{where(name)} appears more than once in the data")
        return column
    position = chunk.schema.get_field_index(str(name)) if isinstance(name, str) else -1
    if position < 0:
        raise MonitoringError(f"{where(name)} is missing from chunk {index} of the data")
    series: pd.Series = chunk.column(position).to_pandas()
    return series


def profile_frame(
    data: FrameLike,
    columns: Schema | Mapping[ColumnName, ProfileKind],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    settings: ProfileSettings | None = None,
) -> DatasetProfile:
    """Profile the columns of a table, ``chunk_rows`` rows at a time.

    Memory stays bounded whatever the number of rows: besides the caller's
    data, profiling holds one chunk's converted columns and the profiles'
    sketches (a few kilobytes per numeric column, at most
    ``max_categories`` counts or a frequent-items sketch per categorical
    column). Stream a table larger than memory as an iterable of chunks
    (a generator of DataFrames, ``pyarrow.parquet.ParquetFile.iter_batches``)
    or a ``pyarrow.RecordBatchReader``; profile Ray partitions separately
    and :func:`merge_all` the results on the driver.

    Parameters
    ----------
    data : DataFrame, pyarrow Table, RecordBatch, RecordBatchReader, or iterable of these
        The rows; any object with ``__arrow_c_stream__`` (polars) is read as
        an Arrow stream. Arrow column names are strings.
    columns : Schema or mapping of column name to {"numeric", "categorical"}
        What to profile. From a :class:`loopml.schema.Schema`, integer and
        float columns are numeric; boolean, categorical and string columns
        categorical; datetime columns are left out (no drift test uses
        them, and their range is not part of a contract). The target is
        profiled like any column.
    chunk_rows : int, default 65536
        Largest number of rows converted at once (chunks of an iterable are
        split further when bigger).
    settings : ProfileSettings, optional
        Sketch sizes; default ``ProfileSettings()``.

    Returns
    -------
    DatasetProfile
        Columns in the order of ``columns``.

    Raises
    ------
    MonitoringError
        If a column is missing from the data or holds values its kind cannot
        take (see :func:`profile_column`), or ``data`` is of an unknown type;
        the message names the column.

    Examples
    --------
    >>> frame = pd.DataFrame({"age": [30, 40, None], "city": ["paris", "lyon", "paris"]})
    >>> profile = profile_frame(frame, {"age": "numeric", "city": "categorical"})
    >>> profile.n_rows, profile["age"].mean, profile["city"].category_counts()
    (3, 35.0, {'lyon': 1, 'paris': 2})
    """
    _check_chunk_rows(chunk_rows)
    kinds = _kinds(columns)
    chosen = settings or ProfileSettings()
    accs = [new_accumulator(name, kind, chosen) for name, kind in kinds.items()]
    if isinstance(data, pd.DataFrame):
        for name in kinds:
            if name not in data.columns:
                raise MonitoringError(f"{where(name)} is missing from the data")
    n_rows = 0
    for index, chunk in enumerate(_chunks(data, chunk_rows)):
        for name, acc in zip(kinds, accs, strict=True):
            _feed(acc, _column(chunk, name, index))
        n_rows += len(chunk) if isinstance(chunk, pd.DataFrame) else chunk.num_rows
    return DatasetProfile(columns=tuple(acc.freeze() for acc in accs), n_rows=n_rows)


def _merge_columns(profiles: list[ColumnProfile]) -> ColumnProfile:
    first = profiles[0]
    acc = thaw(first)
    for other in profiles[1:]:
        if (other.name, other.kind, other.settings) != (first.name, first.kind, first.settings):
            raise MonitoringError(
                f"cannot merge the profile of {where(other.name)} ({other.kind}, "
                f"{other.settings}) into that of {where(first.name)} ({first.kind}, "
                f"{first.settings}): name, kind and settings must be equal"
            )
        incoming = thaw(other)
        if isinstance(acc, NumericAccumulator):
            assert isinstance(incoming, NumericAccumulator)
            acc.merge(incoming)
        else:
            assert not isinstance(incoming, NumericAccumulator)
            acc.merge(incoming)
    return acc.freeze()


def _merge_datasets(profiles: list[DatasetProfile]) -> DatasetProfile:
    by_name = [{c.name: c for c in p.columns} for p in profiles]
    names = list(by_name[0])
    for other in by_name[1:]:
        if set(other) != set(names):
            raise MonitoringError(
                f"cannot merge dataset profiles with different columns: {names!r} "
                f"and {list(other)!r}"
            )
    columns = tuple(_merge_columns([columns[name] for columns in by_name]) for name in names)
    return DatasetProfile(columns=columns, n_rows=sum(p.n_rows for p in profiles))


@overload
def merge_all(profiles: Iterable[ColumnProfile]) -> ColumnProfile: ...
@overload
def merge_all(profiles: Iterable[DatasetProfile]) -> DatasetProfile: ...
def merge_all(
    profiles: Iterable[ColumnProfile] | Iterable[DatasetProfile],
) -> ColumnProfile | DatasetProfile:
    """Merge profiles of disjoint partitions into the profile of their union.

    Counts, missing counts, infinities, minimum, maximum and exact category
    counts of the result equal those of profiling the union at once; mean
    and ``m2`` agree up to floating-point rounding (pairwise update [1]_);
    the sketches merge with their documented error (KLL: the rank error of
    one sketch of the same ``k``; frequent items: at most
    ``3.5 / 2**frequent_lg_max_k`` of all rows per count). Merging is
    associative and commutative within those errors.

    Parameters
    ----------
    profiles : iterable of ColumnProfile, or iterable of DatasetProfile
        At least one; all of the same type. Column profiles must share name,
        kind and settings; dataset profiles the same column names.

    Returns
    -------
    ColumnProfile or DatasetProfile
        A new profile; the inputs are left unchanged.

    Raises
    ------
    MonitoringError
        If ``profiles`` is empty, mixes types, or names, kinds or settings differ.

    References
    ----------
    .. [1] T. F. Chan, G. H. Golub and R. J. LeVeque, "Updating formulae and
       a pairwise algorithm for computing sample variances", 1979.
    """
    items: list[Any] = list(profiles)
    if not items:
        raise MonitoringError("merge_all needs at least one profile")
    if all(isinstance(p, ColumnProfile) for p in items):
        return _merge_columns(items)
    if all(isinstance(p, DatasetProfile) for p in items):
        return _merge_datasets(items)
    raise MonitoringError("merge_all takes only ColumnProfiles or only DatasetProfiles")


@overload
def merge(a: ColumnProfile, b: ColumnProfile) -> ColumnProfile: ...
@overload
def merge(a: DatasetProfile, b: DatasetProfile) -> DatasetProfile: ...
def merge(
    a: ColumnProfile | DatasetProfile, b: ColumnProfile | DatasetProfile
) -> ColumnProfile | DatasetProfile:
    """Return the profile of the union of the two partitions ``a`` and ``b`` describe.

    Same as ``merge_all([a, b])``; see :func:`merge_all` for what is exact.

    Examples
    --------
    >>> left = profile_column([1.0, 2.0], "numeric", name="x")
    >>> right = profile_column([3.0, None], "numeric", name="x")
    >>> both = merge(left, right)
    >>> both.count, both.missing, both.minimum, both.maximum, both.mean
    (4, 1, 1.0, 3.0, 2.0)
    """
    pair: list[Any] = [a, b]
    merged: ColumnProfile | DatasetProfile = merge_all(pair)
    return merged
