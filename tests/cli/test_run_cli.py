"""``loopml run PIPELINE.yaml``: first run trains and registers, a rerun comes from cache."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from typer.testing import CliRunner

import loopml
from loopml.cli.main import app
from loopml.settings import Settings

runner = CliRunner()


def _demo_pipeline(tmp_path: Path) -> Path:
    source = resources.files("loopml.demo").joinpath("flights_pipeline.yaml")
    with resources.as_file(source) as path:
        return Path(shutil.copyfile(path, tmp_path / "pipeline.yaml"))


def _run(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["run", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_rerun_is_served_from_cache_and_param_change_reruns_downstream(
    home: Settings, tmp_path: Path
) -> None:
    pipeline = str(_demo_pipeline(tmp_path))
    first = _run(pipeline)
    assert first["model_version"] == ["flights", 1]
    assert not any(s["cached"] for s in first["steps"])  # type: ignore[union-attr]

    second = _run(pipeline)
    cached = {s["name"]: s["cached"] for s in second["steps"]}  # type: ignore[union-attr]
    assert cached == {"load": True, "validate": True, "split": True, "train": True,
                      "evaluate": True, "register": True, "promote": False}
    assert second["model_version"] == ["flights", 1]

    third = _run(pipeline, "-p", "train.estimator_params.max_iter=20")
    cached = {s["name"]: s["cached"] for s in third["steps"]}  # type: ignore[union-attr]
    assert cached["load"] and cached["validate"] and cached["split"]
    assert not cached["train"] and not cached["evaluate"] and not cached["register"]
    assert third["model_version"] == ["flights", 2]

    with loopml.connect(home) as client:
        run = client.tracker.get_run(str(third["run_id"]))
        assert run.inputs and len(run.inputs[0].fingerprint) == 64
        edges = client.store.edges_from(f"dataset:{run.inputs[0].fingerprint}")
        assert f"run:{run.id}" in {e.target for e in edges}
        produced = client.store.edges_from(f"run:{run.id}")
        assert "model_version:flights/2" in {e.target for e in produced}


def test_broken_pipeline_is_a_one_line_error(home: Settings, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: p\nexperiment: e\nmodel: m\nsteps:\n  - name: a\n    kind: nosuchkind\n")
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 1
    assert "nosuchkind" in result.output
    assert "Traceback" not in result.output
