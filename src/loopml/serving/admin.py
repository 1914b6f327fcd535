"""Admin routes of the model server; every one needs a token with the ``admin`` role.

``POST /admin/reload``
    Resolve the served reference now (instead of waiting for the next poll)
    and load the version it names if it differs from the served one ->
    ``{"model", "ref", "version", "changed"}``.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio.to_thread
from fastapi import APIRouter

from loopml.serving.auth import ADMIN
from loopml.serving.model_holder import ModelHolder
from loopml.serving.wire import StrictJSONResponse

__all__ = ["admin_router"]


def admin_router(holder: ModelHolder, others: Sequence[ModelHolder] = ()) -> APIRouter:
    """Routes under ``/admin`` for the model ``holder`` serves.

    ``others`` are the holders of a deployment's other routes (canary,
    shadow); a reload re-resolves their aliases too.
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

    return router
