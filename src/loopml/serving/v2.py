"""Open Inference Protocol (KServe v2 REST) routes.

Inputs are either one tensor per schema column (``name`` = column, ``shape``
``[n]`` or ``[n, 1]``), or, as KServe's scikit-learn server takes them, a
single tensor of shape ``[n, k]`` holding the rows in schema column order
(row-major ``data``, flat or nested). Outputs are ``predict`` (shape ``[n]``)
and, for classifiers, ``probability`` (shape ``[n, n_classes]``, classes in
the tensor's ``parameters``).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import numpy as np
from fastapi import APIRouter, Request

from loopml.errors import DataError, NotFoundError, SchemaViolationError
from loopml.schema.types import LogicalType
from loopml.schema.violation import Violation, ViolationKind
from loopml.serving.inference import Prediction, Predictor, request_ids_for
from loopml.serving.wire import (
    InferOutput,
    InferRequest,
    InferResponse,
    InferTensor,
    StrictJSONResponse,
    parse_infer,
)

__all__ = ["datatype_of", "tensors_to_records", "v2_router"]

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


def _bad_tensor(name: str, detail: str) -> SchemaViolationError:
    return SchemaViolationError([Violation(name, ViolationKind.WRONG_TYPE, 1, (), detail)])


def tensors_to_records(
    inputs: list[InferTensor], feature_names: tuple[Any, ...]
) -> list[dict[str, Any]]:
    """Turn v2 input tensors into JSON records keyed by column name.

    Raises
    ------
    SchemaViolationError
        A tensor's shape does not match its data, or tensors disagree on the
        number of rows; the violation names the tensor.
    """
    if len(inputs) == 1 and inputs[0].name not in {str(n) for n in feature_names}:
        tensor = inputs[0]
        data = _flatten(tensor.data)
        width = tensor.shape[1] if len(tensor.shape) == 2 else 1
        if width != len(feature_names) or len(data) != tensor.shape[0] * width:
            raise _bad_tensor(
                tensor.name,
                f"shape {tensor.shape} with {len(data)} values does not hold rows of the "
                f"{len(feature_names)} columns {list(feature_names)}",
            )
        return [
            dict(zip(feature_names, data[i : i + width], strict=True))
            for i in range(0, len(data), width)
        ]
    columns: dict[str, list[Any]] = {}
    for tensor in inputs:
        data = _flatten(tensor.data)
        if (
            not tensor.shape
            or int(np.prod(tensor.shape)) != len(data)
            or len(tensor.shape) > 2
            or (len(tensor.shape) == 2 and tensor.shape[1] != 1)
        ):
            raise _bad_tensor(
                tensor.name, f"shape {tensor.shape} does not match {len(data)} values"
            )
        columns[tensor.name] = data
    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1:
        raise _bad_tensor(",".join(columns), f"tensors have different lengths {sorted(lengths)}")
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


def v2_router(predictor: Predictor) -> APIRouter:
    """Routes of the Open Inference Protocol for the model ``predictor`` serves."""
    router = APIRouter(prefix="/v2", tags=["open inference protocol"])
    holder = predictor.holder

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
        loaded = holder.current is not None
        body = {"ready": loaded, "error": None if loaded else holder.last_error}
        return StrictJSONResponse(body, status_code=200 if loaded else 503)

    @router.get("")
    async def server_metadata() -> dict[str, Any]:
        return {"name": "loopml", "version": "0.1.0", "extensions": []}

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
        body = {
            "name": served.name,
            "versions": [str(served.version)],
            "platform": f"loopml_{flavor}",
            "inputs": inputs,
            "outputs": outputs,
        }
        return StrictJSONResponse(body)

    @router.get("/models/{name}/ready")
    async def model_ready(name: str) -> StrictJSONResponse:
        check_name(name)
        loaded = holder.current is not None
        return StrictJSONResponse(
            {"name": name, "ready": loaded}, status_code=200 if loaded else 503
        )

    async def run_infer(name: str, request: Request, version: str | None) -> StrictJSONResponse:
        check_name(name)
        body: InferRequest = parse_infer(await request.body())
        served = holder.require()
        if version is not None and version != str(served.version):
            raise NotFoundError(
                f"model {name!r} version {version} is not served here; "
                f"serving version {served.version}"
            )
        records = tensors_to_records(body.inputs, served.model.schema.feature_names)
        if not records:
            raise DataError("infer request holds no rows")
        ids = request_ids_for(len(records), body.id or request.headers.get("x-request-id"))
        result = await anyio.to_thread.run_sync(predictor.predict, records, ids)
        response = InferResponse(
            model_name=name,
            model_version=str(result.version),
            id=body.id,
            parameters={"request_ids": result.request_ids},
            outputs=_outputs(result, body.outputs),
        )
        return StrictJSONResponse(response)

    @router.post("/models/{name}/infer")
    async def infer(name: str, request: Request) -> StrictJSONResponse:
        return await run_infer(name, request, None)

    @router.post("/models/{name}/versions/{version}/infer")
    async def infer_version(name: str, version: str, request: Request) -> StrictJSONResponse:
        return await run_infer(name, request, version)

    return router
