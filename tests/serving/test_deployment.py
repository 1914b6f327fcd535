"""Progressive delivery on a real server: a canary answers its share of request ids, a shadow
scores a copy of every request (logged, never answering), and each logged row names its route."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from loopml.api import Client
from loopml.deploy import DeploymentSpec, compare_routes, route_for
from loopml.errors import ConfigurationError
from loopml.serving import create_app
from loopml.serving.server import app_from_env

from .conftest import MODEL, RunningServer

Serve = Callable[..., RunningServer]
ROW = {"plan": "basic", "tenure": 3}


def _versions(home: Client, register_model: Any, *aliases: str) -> dict[str, int]:
    """Register one new version per alias (champion stays on version 1)."""
    out = {"champion": 1}
    for seed, alias in enumerate(aliases, start=1):
        version = register_model(home, seed=seed, invert=seed % 2 == 1)
        home.registry.set_alias(MODEL, alias, version, reason="test")
    home.registry.set_alias(MODEL, "champion", 1, reason="test")
    out.update({alias: home.registry.resolve(MODEL, alias).version for alias in aliases})
    return {alias: int(v) for alias, v in out.items()}


def _server(home: Client, serve: Serve, spec: DeploymentSpec) -> RunningServer:
    app = create_app(
        home,
        MODEL,
        "champion",
        poll_interval=0.05,
        deployment=spec,
        writer_options={"flush_interval": 0.05},
    )
    return serve(app)


def test_canary_answers_its_share_deterministically(
    home: Client, serve: Serve, register_model: Any
) -> None:
    versions = _versions(home, register_model, "challenger")
    spec = DeploymentSpec.from_dict(
        {"name": "churn-prod", "model": MODEL, "canary": {"alias": "challenger", "weight": 30}}
    )
    server = _server(home, serve, spec)
    ids = [f"req-{i}" for i in range(300)]
    routes: dict[str, str] = {}
    for rid in ids:
        response = server.http.post(
            "/predict", json={"records": [ROW]}, headers={"X-Request-ID": rid}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert response.headers["X-Model-Route"] == body["route"]
        assert (
            body["version"] == versions["champion" if body["route"] == "champion" else "challenger"]
        )
        assert body["request_ids"] == [rid]
        routes[rid] = body["route"]
    canary = sum(route == "canary" for route in routes.values())
    # binomial(300, 0.3): mean 90, sd 7.9; the split is the documented hash split
    assert 58 <= canary <= 122
    assert routes == {rid: route_for(rid, 30.0, salt="churn-prod") for rid in ids}
    for rid in ids[:40]:  # the same id always gets the same route and version
        again = server.http.post("/predict", json={"records": [ROW]}, headers={"X-Request-ID": rid})
        assert again.json()["route"] == routes[rid]

    # Open Inference Protocol: the same split, the route in parameters and header
    rid = next(r for r in ids if routes[r] == "canary")
    infer = server.http.post(
        f"/v2/models/{MODEL}/infer",
        json={
            "id": rid,
            "inputs": [
                {"name": "plan", "shape": [1], "datatype": "BYTES", "data": ["basic"]},
                {"name": "tenure", "shape": [1], "datatype": "INT64", "data": [3]},
            ],
        },
    )
    assert infer.status_code == 200, infer.text
    assert infer.json()["parameters"]["route"] == "canary"
    assert infer.headers["X-Model-Route"] == "canary"
    assert infer.json()["model_version"] == str(versions["challenger"])

    meta = server.http.get(f"/v2/models/{MODEL}").json()
    assert meta["parameters"]["deployment"] == "churn-prod"
    described = meta["parameters"]["routes"]
    assert described["champion"]["version"] == versions["champion"]
    assert described["canary"] == {
        "alias": "challenger",
        "version": versions["challenger"],
        "error": None,
        "weight": 30.0,
    }
    assert set(meta["versions"]) == {str(versions["champion"]), str(versions["challenger"])}

    server.stop()
    log = home.predictions.read_predictions(MODEL)
    assert set(log["route"]) == {"champion", "canary"}
    for route, version in (("champion", versions["champion"]), ("canary", versions["challenger"])):
        assert set(log.loc[log["route"] == route, "version"]) == {version}
    logged = dict(zip(log["request_id"], log["route"], strict=True))
    assert {rid: logged[rid] for rid in ids} == routes


def test_shadow_scores_every_request_and_never_answers(
    home: Client, serve: Serve, register_model: Any
) -> None:
    versions = _versions(home, register_model, "candidate")
    spec = DeploymentSpec.from_dict(
        {"name": "churn-prod", "model": MODEL, "shadow": {"alias": "candidate"}}
    )
    server = _server(home, serve, spec)
    n = 120
    for i in range(n):
        rid = f"shadowed-{i}"
        row = {"plan": ["basic", "pro", "team"][i % 3], "tenure": i % 60}
        response = server.http.post(
            "/predict", json={"records": [row]}, headers={"X-Request-ID": rid}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["route"], body["version"]) == ("champion", versions["champion"])
        assert response.headers["X-Model-Route"] == "champion"
    meta = server.http.get(f"/v2/models/{MODEL}").json()
    assert meta["parameters"]["routes"]["shadow"]["version"] == versions["candidate"]
    assert meta["parameters"]["shadow_failures"] == 0
    server.stop()  # drains the shadow queue and flushes the log

    log = home.predictions.read_predictions(MODEL)
    champion = log[log["route"] == "champion"]
    shadow = log[log["route"] == "shadow"]
    assert len(champion) == len(shadow) == n
    assert set(shadow["version"]) == {versions["candidate"]}
    assert set(champion["version"]) == {versions["champion"]}
    assert sorted(shadow["request_id"]) == sorted(champion["request_id"])
    comparison = compare_routes(log, route="shadow")
    assert comparison.paired == n
    assert comparison.candidate_versions == (versions["candidate"],)
    assert 0.0 <= (comparison.agreement_rate or 0.0) < 1.0  # the shadow is an inverted model
    assert home.compare_routes(MODEL, "shadow").paired == n


def test_shadow_failure_never_surfaces(home: Client, serve: Serve, register_model: Any) -> None:
    _versions(home, register_model, "candidate")
    spec = DeploymentSpec.from_dict(
        {"name": "churn-prod", "model": MODEL, "shadow": {"alias": "candidate"}}
    )
    app = create_app(home, MODEL, "champion", poll_interval=0.05, deployment=spec)
    shadow = app.state.routes.shadow

    def broken(jobs: Any, deliver: Any) -> None:
        deliver([RuntimeError("shadow is broken")] * len(jobs))

    shadow.predictor.score_batch = broken
    server = serve(app)
    for i in range(5):
        response = server.http.post(
            "/predict", json={"records": [ROW]}, headers={"X-Request-ID": f"f{i}"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["route"] == "champion"
    expected = f'loopml_shadow_failures_total{{model="{MODEL}"}} 5.0'
    deadline = time.monotonic() + 5
    while expected not in (text := server.http.get("/metrics").text):
        assert time.monotonic() < deadline, text  # shadows are scored after the answer
        time.sleep(0.02)
    server.stop()
    assert app.state.routes.shadow_failures == 5


def test_without_deployment_the_route_is_champion(home: Client, serve: Serve) -> None:
    server = serve(create_app(home, MODEL, "champion"))
    response = server.http.post("/predict", json={"records": [ROW]})
    assert response.json()["route"] == "champion"
    assert response.headers["X-Model-Route"] == "champion"
    assert "routes" not in server.http.get(f"/v2/models/{MODEL}").json()["parameters"]


def test_deployment_must_agree_with_the_served_model(home: Client) -> None:
    spec = DeploymentSpec.from_dict({"name": "d", "model": "other"})
    with pytest.raises(ConfigurationError, match="serves other@champion"):
        create_app(home, MODEL, "champion", deployment=spec)


def test_app_from_env_reads_an_inline_deployment(home: Client, tmp_path: Any) -> None:
    env = {
        **home.settings.as_env(),
        "LOOPML_SERVE_DEPLOYMENT": '{"name": "d", "model": "churn", '
        '"canary": {"alias": "challenger", "weight": 5}}',
    }
    app = app_from_env(env)
    assert set(app.state.routes.routes) == {"champion", "canary"}
    path = tmp_path / "deployment.yaml"
    path.write_text("name: d\nmodel: churn\nshadow:\n  alias: candidate\n")
    app = app_from_env({**home.settings.as_env(), "LOOPML_SERVE_DEPLOYMENT": str(path)})
    assert set(app.state.routes.routes) == {"champion", "shadow"}


def test_serve_cli_refuses_a_model_that_disagrees_with_the_deployment(
    home: Client, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from loopml.cli.main import app

    for key, value in home.settings.as_env().items():
        monkeypatch.setenv(key, value)
    path = tmp_path / "deployment.yaml"
    path.write_text("name: d\nmodel: churn\ncanary:\n  alias: nowhere\n  weight: 10\n")
    result = CliRunner().invoke(app, ["serve", "other@champion", "--deployment", str(path)])
    assert result.exit_code == 1
    assert "disagrees with deployment" in result.output
    missing = tmp_path / "missing-champion.yaml"
    missing.write_text("name: d\nmodel: churn\nchampion: nowhere\n")
    result = CliRunner().invoke(app, ["serve", "--deployment", str(missing), "--port", "0"])
    assert result.exit_code == 1  # the champion alias is resolved before the server starts
    assert "nowhere" in result.output
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 1
    assert "--deployment" in result.output


def test_a_deployment_may_name_a_canary_alias_that_does_not_exist_yet(
    home: Client, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """The loop sets the canary alias only while a canary runs: the server starts without it,
    answers everything with the champion, and starts the canary once the alias appears."""
    from loopml.serving.server import _check_model

    spec = DeploymentSpec.from_dict(
        {"name": "d", "model": MODEL, "canary": {"alias": "canary", "weight": 50}}
    )
    with caplog.at_level("WARNING", logger="loopml.serving"):
        _check_model(home, MODEL, "champion", spec)
    assert "canary alias 'canary'" in caplog.text and "idle" in caplog.text
    server = _server(home, serve, spec)
    answers = {
        server.http.post("/predict", json={"records": [ROW]}, headers={"X-Request-ID": f"i{i}"})
        .json()["route"]
        for i in range(20)
    }
    assert answers == {"champion"}
