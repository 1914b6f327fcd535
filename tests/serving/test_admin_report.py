"""``GET /admin/report``: the newest monitoring report of the served model, admin only."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from loopml.api import Client
from loopml.serving import create_app

from .conftest import MODEL, RunningServer

Serve = Callable[..., RunningServer]


def _write(folder: Path, name: str, text: str, mtime: float) -> None:
    path = folder / name
    path.write_text(text)
    os.utime(path, (mtime, mtime))


def test_newest_report_as_json_and_html(home: Client, serve: Serve) -> None:
    server = serve(create_app(home, MODEL, "champion", poll_interval=0.2))
    missing = server.http.get("/admin/report")
    assert missing.status_code == 404
    assert "loopml monitor churn@champion" in missing.json()["error"]

    folder = Path(home.settings.home) / "reports"
    folder.mkdir(parents=True)
    _write(folder, f"report-{MODEL}-v1-20260101T000000.json", '{"verdict": "old"}', 1_000)
    _write(folder, f"report-{MODEL}-v2-20260102T000000.json", '{"verdict": "drift"}', 2_000)
    _write(folder, f"report-{MODEL}-v2-20260102T000000.html", "<html>new</html>", 2_000)
    _write(folder, "report-other-v9-20270101T000000.json", '{"verdict": "other"}', 3_000)

    newest = server.http.get("/admin/report")
    assert newest.status_code == 200 and newest.json() == {"verdict": "drift"}
    html = server.http.get("/admin/report", params={"format": "html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.text == "<html>new</html>"
    assert server.http.get("/admin/report", params={"format": "pdf"}).status_code == 422

    anonymous: Any = httpx.get(f"{server.url}/admin/report")
    assert anonymous.status_code == 401
    assert json.loads(anonymous.text)["error"]
