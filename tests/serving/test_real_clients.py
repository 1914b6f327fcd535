"""Independent clients against a real server: tritonclient (Open Inference Protocol v2) and
schemathesis (property-based calls generated from the server's OpenAPI schema)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from loopml.api import Client
from loopml.serving import create_app

from .conftest import MODEL, RunningServer, training_frame

Serve = Callable[..., RunningServer]


def _register_string_labels(client: Client, tmp_path: Path) -> int:
    """A classifier whose classes are strings ("stay", "churn"): its outputs travel as BYTES."""
    from loopml.models import save_model
    from loopml.schema import infer_schema

    frame, label = training_frame(seed=3)
    labels = np.where(label == 1, "churn", "stay")
    model = Pipeline([
        ("encode", ColumnTransformer([("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"])],
                                     remainder="passthrough")),
        ("model", LogisticRegression(max_iter=500)),
    ]).fit(frame, labels)
    package = tmp_path / f"strings-{uuid.uuid4().hex[:6]}"
    save_model(model, package, schema=infer_schema(frame))
    version = client.registry.register(MODEL, package, run_id=None, reason="string labels")
    client.registry.set_alias(MODEL, "champion", version.version, reason="test")
    return int(version.version)


def _app(client: Client, **options: Any) -> Any:
    return create_app(client, MODEL, "champion", poll_interval=0.1,
                      writer_options={"flush_interval": 0.05}, **options)


def test_tritonclient_gets_string_labels_and_probabilities(
    home: Client, serve: Serve, tmp_path: Path
) -> None:
    import tritonclient.http as triton

    version = _register_string_labels(home, tmp_path)
    server = serve(_app(home))
    loaded = home.registry.load(MODEL, "champion")
    client = triton.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    headers = {"Authorization": f"Bearer {server.token}"} if server.token else None
    assert client.is_server_live(headers=headers)
    assert client.is_model_ready(MODEL, headers=headers)
    metadata = client.get_model_metadata(MODEL, headers=headers)
    assert metadata["name"] == MODEL

    plans = np.array([b"basic", b"team", b"pro", b"team"], dtype=np.object_)
    tenure = np.array([3, 40, 30, 2], dtype=np.int64)
    inputs = [triton.InferInput("plan", [4], "BYTES"), triton.InferInput("tenure", [4], "INT64")]
    # JSON tensors both ways (the binary tensor extension is tested below)
    inputs[0].set_data_from_numpy(plans, binary_data=False)
    inputs[1].set_data_from_numpy(tenure, binary_data=False)
    outputs = [triton.InferRequestedOutput("predict", binary_data=False),
               triton.InferRequestedOutput("probability", binary_data=False)]
    result = client.infer(MODEL, inputs, outputs=outputs, headers=headers, request_id="triton-1")

    frame = {"plan": [p.decode() for p in plans], "tenure": tenure.tolist()}
    import pandas as pd

    expected_labels = loaded.predict(pd.DataFrame(frame))
    expected_proba = loaded.predict_proba(pd.DataFrame(frame))
    got_labels = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("predict")]
    assert got_labels == list(expected_labels)
    assert set(got_labels) <= {"churn", "stay"}
    np.testing.assert_allclose(result.as_numpy("probability"), expected_proba, rtol=0, atol=1e-6)
    assert result.get_response()["id"] == "triton-1"
    assert str(version) in str(result.get_response().get("model_version", version))


def test_tritonclient_binary_tensors_both_ways(
    home: Client, serve: Serve, tmp_path: Path
) -> None:
    """tritonclient's default: inputs and outputs as raw bytes (binary tensor extension)."""
    import pandas as pd
    import tritonclient.http as triton

    _register_string_labels(home, tmp_path)
    server = serve(_app(home))
    loaded = home.registry.load(MODEL, "champion")
    client = triton.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    headers = {"Authorization": f"Bearer {server.token}"} if server.token else None
    assert "binary_tensor_data" in client.get_server_metadata(headers=headers)["extensions"]

    plans = np.array([b"basic", b"team", b"pro", "équipe".encode()], dtype=np.object_)
    tenure = np.array([3, 40, 30, 2], dtype=np.int64)
    inputs = [triton.InferInput("plan", [4], "BYTES"), triton.InferInput("tenure", [4], "INT64")]
    inputs[0].set_data_from_numpy(plans)  # binary_data=True is the default
    inputs[1].set_data_from_numpy(tenure)
    outputs = [triton.InferRequestedOutput("predict"), triton.InferRequestedOutput("probability")]
    result = client.infer(MODEL, inputs, outputs=outputs, headers=headers, request_id="bin-1")

    frame = pd.DataFrame({"plan": [p.decode() for p in plans], "tenure": tenure.tolist()})
    response = result.get_response()
    assert all("binary_data_size" in o["parameters"] for o in response["outputs"])
    got = [v.decode() for v in result.as_numpy("predict")]
    assert got == list(loaded.predict(frame))
    np.testing.assert_allclose(
        result.as_numpy("probability"), loaded.predict_proba(frame), rtol=0, atol=1e-12
    )
    assert result.as_numpy("probability").shape == (4, 2)

    # mixed: binary inputs, JSON outputs
    plain = client.infer(
        MODEL,
        inputs,
        outputs=[triton.InferRequestedOutput("predict", binary_data=False)],
        headers=headers,
    )
    assert [v.decode() if isinstance(v, bytes) else v for v in plain.as_numpy("predict")] == got
    assert "data" in plain.get_response()["outputs"][0]


def test_binary_bodies_that_do_not_add_up_are_400(home: Client, serve: Serve) -> None:
    server = serve(_app(home))
    tenure = np.array([3, 40], dtype="<i8").tobytes()
    plan = b"".join(len(v).to_bytes(4, "little") + v for v in (b"basic", b"pro"))
    header = {
        "inputs": [
            {"name": "plan", "shape": [2], "datatype": "BYTES",
             "parameters": {"binary_data_size": len(plan)}},
            {"name": "tenure", "shape": [2], "datatype": "INT64",
             "parameters": {"binary_data_size": len(tenure)}},
        ],
        "outputs": [{"name": "predict", "parameters": {"binary_data": True}}],
    }
    raw = json.dumps(header).encode()

    def post(body: bytes, length: int | str) -> Any:
        return server.http.post(
            f"/v2/models/{MODEL}/infer",
            content=body,
            headers={
                "Inference-Header-Content-Length": str(length),
                "Content-Type": "application/octet-stream",
            },
        )

    ok = post(raw + plan + tenure, len(raw))
    assert ok.status_code == 200, ok.text
    size = int(ok.headers["Inference-Header-Content-Length"])
    answer = json.loads(ok.content[:size])
    assert answer["outputs"][0]["parameters"]["binary_data_size"] == len(ok.content) - size

    cases = {
        "extra bytes": (raw + plan + tenure + b"x", len(raw), "add up to"),
        "short": (raw + plan + tenure[:-8], len(raw), "runs past"),
        "bad length": (raw + plan + tenure, "ten", "must be an integer"),
        "length past end": (raw, len(raw) + 5, "does not fit"),
    }
    header["inputs"][0]["parameters"]["binary_data_size"] = len(plan) + 2  # a cut length prefix
    cut = json.dumps(header).encode()
    cases["cut BYTES"] = (cut + plan + b"\x01\x00" + tenure, len(cut), "cut short")
    for name, (body, length, words) in cases.items():
        response = post(body, length)
        assert response.status_code == 400, (name, response.text)
        assert words in response.json()["error"], (name, response.json())
    assert "NaN" not in ok.text and "Infinity" not in ok.text


def test_schemathesis_finds_no_server_error(home: Client, serve: Serve) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    server = serve(_app(home))
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    headers = {"Authorization": f"Bearer {server.token}"} if server.token else {}
    failures: list[str] = []
    calls: list[int] = []

    def fuzz(operation: Any) -> None:
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            response = case.call(headers=headers, timeout=10)
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{operation.method.upper()} {operation.path}: "
                                f"{response.status_code} {response.text[:200]}")

        call()

    for result in schema.get_all_operations():
        fuzz(result.ok())
    assert len(calls) > 50
    assert any(400 <= c < 500 for c in calls), 'no malformed case was generated'
    assert any(c == 200 for c in calls), 'no valid case reached the model'
    assert failures == []
