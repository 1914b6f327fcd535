"""Content fingerprints of tables."""

from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa

from loopml.errors import DataError

__all__ = ["fingerprint"]

FINGERPRINT_VERSION = 1
"""Bumped whenever the canonical form changes (old fingerprints stop matching)."""

_TEXT_TYPES = {pa.large_string(): pa.string(), pa.large_binary(): pa.binary()}


class _HashSink:
    """A write-only file object that feeds every byte into a SHA-256."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        self.hash.update(data)
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True


def fingerprint(frame: pd.DataFrame) -> str:
    """Return the SHA-256 (hex) of a table's canonical Arrow serialisation.

    The same content gives the same fingerprint; a change in any value, in a
    column name or label type (``0`` vs ``"0"``), in a dtype, or in the row
    or column order gives a different one.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table. Its index is **not** part of the content (two frames that
        differ only by index have the same fingerprint); column labels must be
        unique.

    Returns
    -------
    str
        64 lowercase hex digits.

    Raises
    ------
    DataError
        If ``frame`` is not a DataFrame, repeats a column label, or holds
        values Arrow cannot represent (e.g. an ``object`` column mixing
        strings and numbers).

    Notes
    -----
    *Canonical* means, in order:

    1. ``pyarrow.Table.from_pandas(frame, preserve_index=False)``, columns in
       the frame's order (column order is content: reordering columns is a
       different table);
    2. schema metadata dropped -- pandas writes its own version and index
       description there -- and replaced by one entry ``loopml.columns``
       holding the JSON list of original labels, so integer labels differ
       from their text;
    3. ``large_string``/``large_binary`` columns cast to ``string``/``binary``
       also as dictionary values (pandas 3's ``str`` dtype and an ``object``
       column of the same strings are the same content); other Arrow types (``int8`` vs ``int64``,
       dictionary vs plain strings, timestamp unit and zone) are kept, so a
       dtype change changes the fingerprint;
    4. all chunks combined into one record batch, written uncompressed with
       the Arrow IPC *stream* format, and hashed with SHA-256.

    Missing values are Arrow nulls (``NaN`` in a float column becomes null,
    as pandas does when converting). The result is stable across processes
    and machines for a given pyarrow IPC format version.

    References
    ----------
    .. [1] Apache Arrow columnar format, IPC streaming format,
       https://arrow.apache.org/docs/format/Columnar.html#ipc-streaming-format
    .. [2] FIPS 180-4, Secure Hash Standard (SHA-256).

    Examples
    --------
    >>> import pandas as pd
    >>> a = fingerprint(pd.DataFrame({"x": [1, 2]}))
    >>> a == fingerprint(pd.DataFrame({"x": [1, 2]}, index=[5, 6]))
    True
    >>> a == fingerprint(pd.DataFrame({"x": [1, 3]}))
    False
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"fingerprint expects a pandas DataFrame, got {type(frame).__name__}")
    labels = list(frame.columns)
    if len(set(map(_label_key, labels))) != len(labels):
        raise DataError("cannot fingerprint a table with repeated column labels")
    try:
        with warnings.catch_warnings():
            # pandas >= 3.1 warns when pyarrow reads tz-aware columns through Series.values;
            # the values pyarrow receives are still the UTC instants.
            warnings.filterwarnings("ignore", message=".*drops timezone information.*")
            table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise DataError(f"table cannot be converted to Arrow for fingerprinting: {exc}") from exc
    fields = [pa.field(f.name, _canonical_type(f.type), f.nullable) for f in table.schema]
    header = json.dumps(
        {"version": FINGERPRINT_VERSION, "columns": [list(_label_key(x)) for x in labels]}
    )
    schema = pa.schema(fields, metadata={"loopml.columns": header})
    table = table.cast(schema).combine_chunks()
    sink = _HashSink()
    with pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), schema) as writer:
        for batch in table.to_batches():
            writer.write_batch(batch)
    return sink.hash.hexdigest()


def _canonical_type(arrow_type: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(arrow_type):
        values = _TEXT_TYPES.get(arrow_type.value_type, arrow_type.value_type)
        return pa.dictionary(arrow_type.index_type, values, arrow_type.ordered)
    return _TEXT_TYPES.get(arrow_type, arrow_type)


def _label_key(label: object) -> tuple[str, str]:
    if isinstance(label, (int, np.integer)) and not isinstance(label, (bool, np.bool_)):
        return ("int", str(int(label)))
    return (type(label).__name__, str(label))
