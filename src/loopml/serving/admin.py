"""Admin routes of the model server; every one needs a token with the ``admin`` role.

``POST /admin/reload``
    Resolve the served reference now (instead of waiting for the next poll)
    and load the version it names if it differs from the served one ->
    ``{"model", "ref", "version", "changed"}``.
``GET /admin/report``
    The newest monitoring report of the served model that ``loopml monitor``
    (or ``loopml report``) wrote to the reports folder: strict JSON, or with
    ``?format=html`` the self-contained HTML report; 404 naming the folder
    when there is none yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from loopml.errors import NotFoundError
from loopml.serving.auth import ADMIN
from loopml.serving.model_holder import ModelHolder
from loopml.serving.wire import StrictJSONResponse

__all__ = ["admin_router"]


def latest_report(folder: Path, model: str, suffix: str) -> Path | None:
    """The newest ``report-<model>-v<version>-<time>.<suffix>`` in ``folder``, or ``None``."""
    if not folder.is_dir():
        return None
    found = [p for p in folder.glob(f"report-{model}-v*.{suffix}") if p.is_file()]
    return max(found, key=lambda p: (p.stat().st_mtime, p.name), default=None)


def admin_router(
    holder: ModelHolder, others: Sequence[ModelHolder] = (), reports: Path | None = None
) -> APIRouter:
    """Routes under ``/admin`` for the model ``holder`` serves.

    ``others`` are the holders of a deployment's other routes (canary,
    shadow); a reload re-resolves their aliases too. ``reports`` is the
    folder monitoring reports are written to (``LOOPML_HOME/reports``).
    """
    router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[ADMIN])

    @router.post("/reload")
    async def reload() -> StrictJSONResponse:
        """Re-resolve the alias now and swap in the version it points at."""
        changed = await anyio.to_thread.run_sync(holder.refresh)
        for other in others:
            if other is not holder:
                changed = await anyio.to_thread.run_sync(other.refresh) or changed
        served = holder.require()
        body = {
            "model": holder.name,
            "ref": holder.ref,
            "version": served.version,
            "changed": changed,
        }
        return StrictJSONResponse(body)

    @router.get("/report")
    async def report(format: Literal["json", "html"] = "json") -> Response:
        """The newest monitoring report of the served model (JSON, or HTML)."""
        path = None if reports is None else latest_report(reports, holder.name, format)
        if path is None:
            raise NotFoundError(
                f"no {format} monitoring report for model {holder.name!r} in {reports}; "
                f"run `loopml monitor {holder.name}@{holder.ref}` first"
            )
        media = "application/json" if format == "json" else "text/html; charset=utf-8"
        return FileResponse(path, media_type=media)

    return router
