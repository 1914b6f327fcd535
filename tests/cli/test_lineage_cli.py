"""``loopml lineage`` and ``loopml reproduce`` on a real SQLite home with the demo pipeline (small slice)."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from typer.testing import CliRunner

import loopml
from loopml.cli.main import app
from loopml.data.demo import load_flights
from loopml.settings import Settings

runner = CliRunner()
SLICE = ["-p", "load.fallback.query=month == 1 and day <= 3",
         "-p", "train.estimator_params.max_iter=20"]


def _pipeline(tmp_path: Path) -> Path:
    with resources.as_file(resources.files("loopml.demo") / "flights_pipeline.yaml") as path:
        return Path(shutil.copyfile(path, tmp_path / "pipeline.yaml"))


def _json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_lineage_from_datasets_to_alias_history(home: Settings, tmp_path: Path) -> None:
    pipeline = str(_pipeline(tmp_path))
    first = _json("run", pipeline, *SLICE)
    second = _json("run", pipeline, *SLICE, "-p", "train.estimator_params.max_iter=21")
    assert first["model_version"] == ["flights", 1] and second["model_version"] == ["flights", 2]
    moved = runner.invoke(app, ["models", "alias", "flights", "champion", "2", "-r", "canary ok"])
    assert moved.exit_code == 0, moved.output
    assert runner.invoke(app, ["models", "rollback", "flights", "champion", "-r",
                               "live AUC dropped"]).exit_code == 0

    data = _json("lineage", "flights@1")
    run = data["run"]
    assert isinstance(run, dict) and run["id"] == first["run_id"]
    assert run["pipeline"] == "flights-delay" and run["reproducible"] is True
    roles = {d["role"]: d for d in run["datasets"]}
    assert set(roles) == {"source", "train", "test"}
    assert roles["source"]["name"] == "demo:flights" and len(roles["source"]["fingerprint"]) == 64
    periods = [(d["alias"], d["end"] is None) for d in data["deployments"]]  # type: ignore[union-attr]
    assert periods == [("champion", False), ("champion", True)]
    assert [m["action"] for m in data["alias_history"]] == [  # type: ignore[union-attr]
        "alias.set", "alias.set", "alias.rollback"
    ]
    assert data["aliases"] == ["champion"]

    v2 = _json("lineage", "flights@2")
    assert [(d["alias"], d["ended_by"]) for d in v2["deployments"]] == [  # type: ignore[union-attr]
        ("champion", "alias.rollback to v1 by tester")
    ]

    text = runner.invoke(app, ["lineage", "flights@champion"])
    assert text.exit_code == 0, text.output
    fingerprint = roles["train"]["fingerprint"]
    assert f"dataset {fingerprint[:16]}  train" in text.output
    assert f"-> run {first['run_id']}" in text.output
    assert "-> model version flights/1" in text.output
    assert "live AUC dropped" in text.output

    missing = runner.invoke(app, ["lineage", "flights@7"])
    assert missing.exit_code == 1 and "flights" in missing.output and "7" in missing.output


def test_reproduce_demo_run_and_input_frames(home: Settings, tmp_path: Path) -> None:
    first = _json("run", str(_pipeline(tmp_path)), *SLICE)
    shown = runner.invoke(app, ["reproduce", str(first["run_id"])])
    assert shown.exit_code == 0, shown.output
    assert "reproduced: metrics and artifacts match" in shown.output
    assert "model.skops" in shown.output

    frame = load_flights().query("month == 1 and day <= 2").rename(columns={"time_hour": "timestamp"})
    with loopml.connect(home) as client:
        result = client.run_pipeline(
            _pipeline(tmp_path), inputs={"train": frame},
            params={"train.estimator_params.max_iter": 20},
        )
        shutil.rmtree(Path(client.settings.artifact_root) / "cache")
    needs = runner.invoke(app, ["reproduce", result.run_id])
    assert needs.exit_code == 1
    assert "reproduce needs it, pass --input train=PATH.parquet" in needs.output
    assert result.run_id in needs.output

    wrong = tmp_path / "wrong.parquet"
    frame.head(100).to_parquet(wrong)
    refused = runner.invoke(app, ["reproduce", result.run_id, "--input", f"train={wrong}"])
    assert refused.exit_code == 1 and "is not the data run" in refused.output
    assert "train: running" not in refused.output  # refused before any step ran

    given = tmp_path / "train.parquet"
    frame.to_parquet(given)
    data = _json("reproduce", result.run_id, "--input", f"train={given}")
    assert data["reproduced"] is True
    checks = {(c["kind"], c["name"]): c["matches"] for c in data["checks"]}  # type: ignore[union-attr]
    assert checks[("dataset", "input:train")] and checks[("metric", "roc_auc")]
    assert checks[("artifact", "model.skops")]

    bad = runner.invoke(app, ["reproduce", result.run_id, "--input", "train"])
    assert bad.exit_code == 2 and "NAME=PATH" in bad.output
