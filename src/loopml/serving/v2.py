"""Open Inference Protocol (KServe v2 REST) routes.

Inputs are either one tensor per schema column (``name`` = column, ``shape``
``[n]`` or ``[n, 1]``), or, as KServe's scikit-learn server takes them, a
single tensor of shape ``[n, k]`` holding the rows in schema column order
(row-major ``data``, flat or nested). Outputs are ``predict`` (shape ``[n]``)
and, for classifiers, ``probability`` (shape ``[n, n_classes]``, classes in
the tensor's ``parameters``).

Each input's ``datatype`` must be an Open Inference Protocol datatype and fit
the logical type of the column it feeds (:func:`accepted_datatypes`):

===============================  =============================================
column                           accepted datatypes
===============================  =============================================
integer, float                   ``INT8``..``INT64``, ``UINT8``..``UINT64``,
                                 ``FP16``, ``FP32``, ``FP64``
boolean                          ``BOOL``, or an integer datatype holding 0/1
categorical                      ``BYTES``; also an integer datatype when every
                                 category of the schema is an integer (``"3"``)
string, datetime                 ``BYTES``
===============================  =============================================

A single ``[n, k]`` tensor holding whole rows may be ``BYTES`` (mixed values)
or any datatype every column accepts. Anything else is a 422 naming the input
and the datatypes it accepts.

Tensors may also travel as raw bytes, both ways, with Triton's binary tensor
data extension (the default of ``tritonclient``; :mod:`loopml.serving.v2_binary`).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import numpy as np
from fastapi import APIRouter, Request, Response

from loopml.errors import DataError, NotFoundError, SchemaViolationError
from loopml.schema.types import LogicalType
from loopml.schema.violation import Violation, ViolationKind
from loopml.serving.auth import PREDICT
from loopml.serving.batcher import Batcher
from loopml.serving.inference import Prediction, Predictor
from loopml.serving.records import request_ids_for
from loopml.serving.routes import Route, Routes
from loopml.serving.v2_binary import HEADER_LENGTH, decode_binary_request, encode_binary_response
from loopml.serving.wire import (
    FieldViolation,
    InferOutput,
    InferRequest,
    InferResponse,
    InferTensor,
    StrictJSONResponse,
    parse_infer,
    printable,
    to_jsonable,
    validate,
)

__all__ = [
    "DATATYPES",
    "accepted_datatypes",
    "check_datatypes",
    "datatype_of",
    "tensors_to_records",
    "v2_router",
]

_INTEGERS = ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")
_FLOATS = ("FP16", "FP32", "FP64")
DATATYPES = ("BOOL", *_INTEGERS, *_FLOATS, "BYTES")
"""The tensor datatypes of the Open Inference Protocol."""

_DATATYPES = {
    LogicalType.INTEGER: "INT64",
    LogicalType.FLOAT: "FP64",
    LogicalType.BOOLEAN: "BOOL",
    LogicalType.CATEGORICAL: "BYTES",
    LogicalType.STRING: "BYTES",
    LogicalType.DATETIME: "BYTES",
}


def datatype_of(values: Any) -> str:
    """Open Inference Protocol datatype of an array of outputs."""
    kind = np.asarray(values).dtype.kind
    return {"b": "BOOL", "i": "INT64", "u": "UINT64", "f": "FP64"}.get(kind, "BYTES")


def _flatten(data: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for item in data:
        flat.extend(_flatten(item) if isinstance(item, list) else [item])
    return flat


def _integer_like(text: str) -> bool:
    return text.strip().lstrip("+-").isdigit()


def accepted_datatypes(column: Any) -> tuple[str, ...]:
    """Open Inference Protocol datatypes an input tensor feeding ``column`` may have.

    Parameters
    ----------
    column : loopml.schema.Column
        A feature column of the model's schema (``logical_type``, ``categories``).
    """
    kind = column.logical_type
    if kind in (LogicalType.INTEGER, LogicalType.FLOAT):
        return _INTEGERS + _FLOATS
    if kind == LogicalType.BOOLEAN:
        return ("BOOL", *_INTEGERS)
    categories = getattr(column, "categories", None)
    if kind == LogicalType.CATEGORICAL and categories and all(map(_integer_like, categories)):
        return ("BYTES", *_INTEGERS)
    return ("BYTES",)


def _bad_input(index: int, tensor: InferTensor, columns: dict[str, Any], detail: str) -> Any:
    """A violation naming the input: its column when it feeds one, else its body field."""
    name = printable(tensor.name)
    if tensor.name in columns:
        return Violation(name, ViolationKind.WRONG_TYPE, 1, (), f"input {name!r}: {detail}")
    return FieldViolation(f"inputs.{index}", f"input {name!r}: {detail}")


def check_datatypes(inputs: list[InferTensor], features: tuple[Any, ...]) -> None:
    """Refuse input tensors whose ``datatype`` is unknown or does not fit their column.

    Parameters
    ----------
    inputs : list of InferTensor
        The request's input tensors.
    features : tuple of loopml.schema.Column
        The model's feature columns, in schema order.

    Raises
    ------
    SchemaViolationError
        One violation per refused input, naming it and the datatypes it accepts.
    """
    columns = {str(column.name): column for column in features}
    matrix = len(inputs) == 1 and inputs[0].name not in columns
    problems: list[Any] = []
    for index, tensor in enumerate(inputs):
        if tensor.datatype not in DATATYPES:
            expected = ", ".join(DATATYPES)
            detail = f"datatype {printable(tensor.datatype)!r} is not an Open Inference "
            problems.append(
                _bad_input(
                    index, tensor, columns, f"{detail}Protocol datatype; expected {expected}"
                )
            )
            continue
        if matrix:
            accepted = ["BYTES"] + [
                d for d in DATATYPES if all(d in accepted_datatypes(c) for c in features)
            ]
            fits = f"the rows of columns {[printable(c) for c in columns]}"
        elif tensor.name in columns:
            column = columns[tensor.name]
            accepted = list(accepted_datatypes(column))
            fits = f"{column.logical_type.value} column {printable(tensor.name)!r}"
        else:
            continue  # not a model input: conform drops it
        if tensor.datatype not in accepted:
            detail = (
                f"datatype {tensor.datatype} does not fit {fits}; expected {', '.join(accepted)}"
            )
            problems.append(_bad_input(index, tensor, columns, detail))
    if problems:
        raise SchemaViolationError(problems)


def tensors_to_records(
    inputs: list[InferTensor], feature_names: tuple[Any, ...]
) -> list[dict[str, Any]]:
    """Turn v2 input tensors into JSON records keyed by column name.

    Raises
    ------
    SchemaViolationError
        A tensor's shape does not match its data, or tensors disagree on the
        number of rows; the violation names the input (its column, or the
        field ``inputs.<i>`` when it feeds no single column).
    """
    columns_by_name = {str(n): n for n in feature_names}
    if len(inputs) == 1 and inputs[0].name not in columns_by_name:
        tensor = inputs[0]
        data = _flatten(tensor.data)
        width = tensor.shape[1] if len(tensor.shape) == 2 else 1
        if width != len(feature_names) or len(data) != tensor.shape[0] * width:
            detail = (
                f"shape {tensor.shape} with {len(data)} values does not hold rows of the "
                f"{len(feature_names)} columns {[printable(n) for n in feature_names]}"
            )
            raise SchemaViolationError([_bad_input(0, tensor, columns_by_name, detail)])
        return [
            dict(zip(feature_names, data[i : i + width], strict=True))
            for i in range(0, len(data), width)
        ]
    columns: dict[str, list[Any]] = {}
    for index, tensor in enumerate(inputs):
        data = _flatten(tensor.data)
        if (
            not tensor.shape
            or int(np.prod(tensor.shape)) != len(data)
            or len(tensor.shape) > 2
            or (len(tensor.shape) == 2 and tensor.shape[1] != 1)
        ):
            detail = f"shape {tensor.shape} does not match {len(data)} values"
            raise SchemaViolationError([_bad_input(index, tensor, columns_by_name, detail)])
        if tensor.name in columns:
            detail = f"input {printable(tensor.name)!r} is given twice; send each column once"
            raise SchemaViolationError([_bad_input(index, tensor, columns_by_name, detail)])
        columns[tensor.name] = data
    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1:
        sizes = ", ".join(f"{printable(name)}={len(values)}" for name, values in columns.items())
        raise SchemaViolationError(
            [FieldViolation("inputs", f"input tensors have different lengths: {sizes}")]
        )
    n_rows = lengths.pop()
    return [{name: values[i] for name, values in columns.items()} for i in range(n_rows)]


def _outputs(result: Prediction, wanted: list[dict[str, Any]] | None) -> list[InferOutput]:
    n = len(result.predictions)
    outputs = [
        InferOutput(
            name="predict",
            shape=[n],
            datatype=datatype_of(result.predictions),
            data=result.predictions,
        )
    ]
    if result.probabilities is not None:
        outputs.append(
            InferOutput(
                name="probability",
                shape=list(result.probabilities.shape),
                datatype="FP64",
                data=result.probabilities.ravel().tolist(),
                parameters={"classes": result.classes},
            )
        )
    if wanted:
        names = {str(item.get("name")) for item in wanted}
        outputs = [output for output in outputs if output.name in names]
    return outputs


def v2_router(
    predictor: Predictor, batcher: Batcher | None = None, routes: Routes | None = None
) -> APIRouter:
    """Routes of the Open Inference Protocol for the model ``predictor`` serves.

    ``infer`` requests go through ``batcher`` (micro-batched with concurrent
    ``/predict`` and ``infer`` requests) when given. With ``routes`` (a
    deployment) each request is answered by the route its first request id
    picks (:meth:`Routes.pick`; ``versions/{v}/infer`` by the route serving
    ``v``), its shadow copy is queued, the response's ``parameters.route`` and
    ``X-Model-Route`` header name the route, and model metadata lists every
    route with its alias and version. Inputs are read with the champion's schema.
    """
    router = APIRouter(prefix="/v2", tags=["open inference protocol"])
    holder = predictor.holder
    if routes is None and batcher is not None:
        routes = Routes({"champion": Route(predictor.route, holder, predictor, batcher)})

    def check_name(name: str) -> None:
        if name != holder.name:
            raise NotFoundError(
                f"model {name!r} is not served here; this server serves {holder.name!r}"
            )

    @router.get("/health/live")
    async def live() -> dict[str, bool]:
        return {"live": True}

    @router.get("/health/ready")
    async def ready() -> StrictJSONResponse:
        loaded = holder.current is not None if routes is None else routes.ready()
        body = {"ready": loaded, "error": None if loaded else holder.last_error}
        return StrictJSONResponse(body, status_code=200 if loaded else 503)

    @router.get("")
    async def server_metadata() -> dict[str, Any]:
        return {"name": "loopml", "version": "0.1.0", "extensions": ["binary_tensor_data"]}

    @router.get("/models/{name}")
    async def model_metadata(name: str) -> StrictJSONResponse:
        check_name(name)
        served = holder.require()
        model = served.model
        classifier = getattr(model, "classes", None) is not None
        inputs = [
            {"name": column.name, "datatype": _DATATYPES[column.logical_type], "shape": [-1]}
            for column in model.schema.features
        ]
        predict_type = datatype_of(list(model.classes)) if classifier else "FP64"
        outputs = [{"name": "predict", "datatype": predict_type, "shape": [-1]}]
        if classifier:
            outputs.append(
                {"name": "probability", "datatype": "FP64", "shape": [-1, len(model.classes)]}
            )
        manifest = getattr(model, "manifest", None)
        flavor = getattr(manifest, "flavor", None) or "sklearn"
        compiled = getattr(manifest, "compiled", None)
        versions = [str(served.version)]
        parameters: dict[str, Any] = {
            "runtime": predictor.runtime(served),
            "compiled": None if compiled is None else compiled.to_dict(),
            "onnx_enabled": predictor.onnx,
        }
        if routes is not None and routes.deployment is not None:
            parameters.update(routes.describe())
            for route in routes.routes.values():
                current = route.holder.current
                if current is not None and str(current.version) not in versions:
                    versions.append(str(current.version))
        body = {
            "name": served.name,
            "versions": versions,
            "platform": f"loopml_{flavor}",
            "inputs": inputs,
            "outputs": outputs,
            "parameters": parameters,
        }
        return StrictJSONResponse(body)

    @router.get("/models/{name}/ready")
    async def model_ready(name: str) -> StrictJSONResponse:
        check_name(name)
        loaded = holder.current is not None
        return StrictJSONResponse(
            {"name": name, "ready": loaded}, status_code=200 if loaded else 503
        )

    async def run_infer(name: str, request: Request, version: str | None) -> Response:
        check_name(name)
        raw = await request.body()
        header_length = request.headers.get(HEADER_LENGTH)
        if header_length is None:
            body: InferRequest = parse_infer(raw)
        else:
            body = validate(decode_binary_request(raw, header_length), InferRequest)
        served = holder.require()
        chosen: Route | None = None
        if routes is not None and version is not None:
            chosen = routes.for_version(version)
        elif version is not None and version != str(served.version):
            raise NotFoundError(
                f"model {name!r} version {version} is not served here; "
                f"serving version {served.version}"
            )
        check_datatypes(body.inputs, served.model.schema.features)
        records = tensors_to_records(body.inputs, served.model.schema.feature_names)
        if not records:
            raise DataError("infer request holds no rows")
        ids = request_ids_for(len(records), body.id or request.headers.get("x-request-id"))
        if routes is not None:
            answered, result = await routes.predict(records, ids, chosen)
            route_name = answered.name
        else:
            result = await anyio.to_thread.run_sync(predictor.predict, records, ids)
            route_name = predictor.route
        response = InferResponse(
            model_name=name,
            model_version=str(result.version),
            id=body.id,
            parameters={"request_ids": result.request_ids, "route": route_name},
            outputs=_outputs(result, body.outputs),
        )
        headers = {"X-Model-Version": str(result.version), "X-Model-Route": route_name}
        answer = to_jsonable(response)
        binary = encode_binary_response(answer, body.outputs, body.parameters)
        if binary is None:
            return StrictJSONResponse(answer, headers=headers)
        header = StrictJSONResponse(None).render(answer)
        headers[HEADER_LENGTH] = str(len(header))
        return Response(header + binary, media_type="application/octet-stream", headers=headers)

    @router.post("/models/{name}/infer", dependencies=[PREDICT])
    async def infer(name: str, request: Request) -> Response:
        return await run_infer(name, request, None)

    @router.post("/models/{name}/versions/{version}/infer", dependencies=[PREDICT])
    async def infer_version(name: str, version: str, request: Request) -> Response:
        return await run_infer(name, request, version)

    return router
