"""The binary tensor data extension of the Open Inference Protocol (Triton's, over HTTP).

Clients such as ``tritonclient`` send tensors as raw bytes by default: the
body is a JSON header of ``Inference-Header-Content-Length`` bytes followed by
the tensors' bytes, in input order. An input carried that way has
``"parameters": {"binary_data_size": n}`` and no ``data``. The same holds for
outputs: a client asks for binary outputs per output (``"parameters":
{"binary_data": true}``) or for all of them (request ``"parameters":
{"binary_data_output": true}``), and the answer is then the JSON header,
with ``binary_data_size`` on those outputs, followed by their bytes.

Element encoding: numbers little-endian in the datatype's width, ``BOOL`` one
byte per element, ``BYTES`` each element as a 4-byte little-endian length
followed by that many bytes. Tensors are row-major. A ``NaN`` in a binary
floating-point input is a missing value, as a ``NaN`` literal in JSON is.

A binary request is turned into the JSON form (``data`` filled in) before the
usual checks run, so every refusal names the input the same way. A binary
output holding a non-finite number is sent as JSON instead (``null``), so
``NaN`` or ``Infinity`` never reaches a client, in either form.

References
----------
.. [1] Triton Inference Server, "Binary Tensor Data Extension",
   https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_binary_data.md
.. [2] KServe, "Open Inference Protocol (V2 Inference Protocol)", REST API.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np

from loopml.errors import DataError
from loopml.serving.wire import decode_json

__all__ = [
    "HEADER_LENGTH",
    "decode_binary_request",
    "encode_binary_response",
    "json_header",
    "wants_binary",
]

HEADER_LENGTH = "inference-header-content-length"
"""HTTP header giving the byte length of the JSON part of a binary body."""

_NUMPY: dict[str, str] = {
    "BOOL": "?",
    "INT8": "<i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "UINT8": "<u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "FP16": "<f2",
    "FP32": "<f4",
    "FP64": "<f8",
}


def json_header(body: bytes, header_length: str) -> tuple[bytes, bytes]:
    """Split a binary body into its JSON header and its tensor bytes.

    Raises
    ------
    DataError
        ``header_length`` is not an integer between 0 and the body length (HTTP 400).
    """
    try:
        size = int(header_length)
    except ValueError:
        raise DataError(
            f"Inference-Header-Content-Length must be an integer, got {header_length!r}"
        ) from None
    if not 0 <= size <= len(body):
        raise DataError(
            f"Inference-Header-Content-Length {size} does not fit a body of {len(body)} bytes"
        )
    return body[:size], body[size:]


def _elements(shape: list[int]) -> int:
    count = 1
    for dim in shape:
        count *= dim
    return count


def _decode_bytes(raw: bytes, name: str) -> list[str]:
    values: list[str] = []
    offset = 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise DataError(f"input {name!r}: BYTES element length cut short at byte {offset}")
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + length > len(raw):
            raise DataError(
                f"input {name!r}: BYTES element of {length} bytes runs past the tensor's end"
            )
        try:
            values.append(raw[offset : offset + length].decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise DataError(f"input {name!r}: a BYTES element is not UTF-8 ({exc})") from None
        offset += length
    return values


def _decode_tensor(tensor: dict[str, Any], raw: bytes) -> list[Any]:
    name = str(tensor.get("name"))
    datatype = tensor.get("datatype")
    shape = tensor.get("shape")
    if datatype == "BYTES":
        values: list[Any] = _decode_bytes(raw, name)
    elif isinstance(datatype, str) and datatype in _NUMPY:
        dtype = np.dtype(_NUMPY[datatype])
        if len(raw) % dtype.itemsize:
            raise DataError(
                f"input {name!r}: {len(raw)} bytes is not a whole number of {datatype} elements"
            )
        array = np.frombuffer(raw, dtype=dtype)
        values = array.tolist()
        if datatype.startswith("FP"):
            # NaN marks a missing value, as the JSON form reads a NaN literal as null;
            # infinities stay and are refused by the usual checks.
            values = [None if math.isnan(v) else v for v in values]
    else:
        raise DataError(f"input {name!r}: datatype {datatype!r} cannot be sent as binary data")
    dims = list(shape) if isinstance(shape, list) else []
    sized = bool(dims) and all(isinstance(d, int) and d >= 0 for d in dims)
    if sized and len(values) != _elements(dims):
        raise DataError(
            f"input {name!r}: shape {dims} needs {_elements(dims)} elements, "
            f"the binary data holds {len(values)}"
        )
    return values


def decode_binary_request(body: bytes, header_length: str) -> Any:
    """The JSON form of a binary ``infer`` body: each binary input gets its ``data``.

    Returns
    -------
    object
        The decoded JSON header with ``data`` filled in, for the usual
        request validation.

    Raises
    ------
    DataError
        Malformed header, a ``binary_data_size`` that is not a non-negative
        integer, sizes that do not add up to the bytes sent, or element
        bytes that do not fit the datatype and shape (HTTP 400).
    """
    header, payload = json_header(body, header_length)
    data = decode_json(header)
    inputs = data.get("inputs") if isinstance(data, dict) else None
    offset = 0
    for tensor in inputs if isinstance(inputs, list) else ():
        parameters = tensor.get("parameters") if isinstance(tensor, dict) else None
        if not isinstance(parameters, dict) or "binary_data_size" not in parameters:
            continue
        size = parameters["binary_data_size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise DataError(
                f"input {tensor.get('name')!r}: binary_data_size must be a non-negative "
                f"integer, got {size!r}"
            )
        if offset + size > len(payload):
            raise DataError(
                f"input {tensor.get('name')!r}: binary_data_size {size} runs past the "
                f"{len(payload)} bytes of binary data"
            )
        tensor["data"] = _decode_tensor(tensor, payload[offset : offset + size])
        offset += size
    if offset != len(payload):
        raise DataError(
            f"the body holds {len(payload)} bytes of binary data but the inputs' "
            f"binary_data_size add up to {offset}"
        )
    return data


def wants_binary(
    name: str, requested: list[dict[str, Any]] | None, parameters: dict[str, Any] | None
) -> bool:
    """Whether output ``name`` is asked for as binary data."""
    for item in requested or ():
        if item.get("name") == name:
            options = item.get("parameters")
            if isinstance(options, dict) and "binary_data" in options:
                return options["binary_data"] is True
    return bool(parameters and parameters.get("binary_data_output") is True)


def _encode_tensor(datatype: str, values: list[Any]) -> bytes | None:
    """Bytes of a flat tensor, or ``None`` if it cannot be binary (non-finite numbers)."""
    if datatype == "BYTES":
        parts = []
        for value in values:
            raw = str(value).encode("utf-8")
            parts.append(struct.pack("<I", len(raw)) + raw)
        return b"".join(parts)
    if datatype not in _NUMPY:
        return None
    if datatype.startswith("FP") and not all(
        isinstance(v, (int, float)) and math.isfinite(v) for v in values
    ):
        return None
    try:
        return np.asarray(values, dtype=np.dtype(_NUMPY[datatype])).tobytes()
    except (TypeError, ValueError):
        return None


def _flat(data: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in data:
        out.extend(_flat(item) if isinstance(item, list) else [item])
    return out


def encode_binary_response(
    response: dict[str, Any],
    requested: list[dict[str, Any]] | None,
    parameters: dict[str, Any] | None,
) -> bytes | None:
    """Move the outputs asked for as binary out of the JSON answer.

    Parameters
    ----------
    response : dict
        The JSON-able ``infer`` answer (changed in place).
    requested, parameters
        The request's ``outputs`` and ``parameters``.

    Returns
    -------
    bytes or None
        The outputs' bytes, to follow the JSON header of ``response``, or
        ``None`` when no output goes as binary (answer with plain JSON).
    """
    chunks: list[bytes] = []
    for output in response.get("outputs", []):
        if not wants_binary(output["name"], requested, parameters):
            continue
        raw = _encode_tensor(output["datatype"], _flat(output["data"]))
        if raw is None:
            continue  # stays JSON, with null for non-finite numbers
        del output["data"]
        output["parameters"] = {**(output.get("parameters") or {}), "binary_data_size": len(raw)}
        chunks.append(raw)
    if not chunks:
        return None
    return b"".join(chunks)
