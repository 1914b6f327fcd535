"""``loopml card NAME@VERSION`` on a real SQLite home after a demo pipeline run (small slice)."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from typer.testing import CliRunner

from loopml.cli.main import app
from loopml.settings import Settings

runner = CliRunner()


def test_card_markdown_html_and_errors(home: Settings, tmp_path: Path) -> None:
    with resources.as_file(resources.files("loopml.demo") / "flights_pipeline.yaml") as path:
        pipeline = shutil.copyfile(path, tmp_path / "pipeline.yaml")
    ran = runner.invoke(app, ["run", str(pipeline), "--json",
                              "-p", "load.fallback.query=month == 1 and day <= 3",
                              "-p", "train.estimator_params.max_iter=15"])
    assert ran.exit_code == 0, ran.output
    run_id = json.loads(ran.output.strip().splitlines()[-1])["run_id"]

    md = runner.invoke(app, ["card", "flights@champion"])
    assert md.exit_code == 0, md.output
    assert md.output.startswith("# Model card: flights v1\n")
    assert "- Intended use: not stated" in md.output
    assert f"test split of run {run_id}" in md.output
    assert "No monitoring report of this version." in md.output

    out = tmp_path / "cards" / "flights-v1.html"
    html = runner.invoke(app, ["card", "flights@1", "--format", "html", "--out", str(out)])
    assert html.exit_code == 0, html.output
    assert f"model card of flights v1: {out}" in html.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "Model card: flights v1" in page

    missing = runner.invoke(app, ["card", "flights@4"])
    assert missing.exit_code == 1
    assert "flights" in missing.output and "4" in missing.output
    bad = runner.invoke(app, ["card", "flights@1", "--format", "pdf"])
    assert bad.exit_code == 2
