"""The routes of an endpoint: champion, optional canary, optional shadow.

A :class:`Routes` holds one :class:`Route` (a :class:`ModelHolder`, its
:class:`Predictor` and :class:`Batcher`) per route of a
:class:`loopml.deploy.DeploymentSpec`; each follows its own alias and hot
swaps on its own. Without a deployment there is one route, ``champion``,
serving the app's ``ref``.

For each request :meth:`Routes.predict` picks the answering route with
:func:`loopml.deploy.route_for` (first request id, canary weight, salt = the
deployment name): the canary answers its share of request ids, the champion
the rest. A canary that has not loaded yet, or whose alias no longer resolves
(removed when a canary ends), leaves its requests to the champion (logged as
``champion``, the route that computed them) and is not waited for by
:meth:`Routes.ready`. When a
shadow is configured every answered request is also queued for the shadow in
a background task, with the same request ids: the answer never waits for it,
and a shadow failure is logged and counted (:attr:`Routes.shadow_failures`),
never returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from loopml.deploy import DeploymentSpec, route_for
from loopml.errors import NotFoundError
from loopml.serving.batcher import Batcher
from loopml.serving.inference import Prediction, Predictor
from loopml.serving.model_holder import ModelHolder

__all__ = ["Route", "Routes"]

_log = logging.getLogger("loopml.serving")


def _alias_gone(route: Route) -> bool:
    """Whether the route's last refresh found its alias (or version) missing: the holder keeps
    the version it had, but the route should no longer answer with it."""
    error = route.holder.last_error
    return error is not None and error.startswith(f"{NotFoundError.__name__}:")


@dataclass(frozen=True)
class Route:
    """One route of the endpoint: its name, and the model it follows and scores with."""

    name: str
    holder: ModelHolder
    predictor: Predictor
    batcher: Batcher


class Routes:
    """The champion, canary and shadow routes of one endpoint.

    Parameters
    ----------
    routes : dict of str to Route
        Route name -> route; ``"champion"`` is required.
    deployment : DeploymentSpec, optional
        The split (canary weight, salt); ``None`` sends everything to the champion.
    on_shadow_failure : callable, optional
        Called once per failed shadow request (metrics).
    """

    def __init__(
        self,
        routes: dict[str, Route],
        deployment: DeploymentSpec | None = None,
        *,
        on_shadow_failure: Callable[[], None] | None = None,
    ) -> None:
        self.routes = routes
        self.deployment = deployment
        self.on_shadow_failure = on_shadow_failure
        self.shadow_failures = 0
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def champion(self) -> Route:
        """The route that answers by default."""
        return self.routes["champion"]

    @property
    def shadow(self) -> Route | None:
        """The shadow route, if configured."""
        return self.routes.get("shadow")

    @property
    def answering(self) -> list[Route]:
        """The routes that answer requests (champion, then canary)."""
        return [route for name, route in self.routes.items() if name != "shadow"]

    def ready(self) -> bool:
        """Whether every answering route has a model loaded (the shadow, and a canary whose
        alias is gone, are not waited for)."""
        return self.champion.holder.current is not None and all(
            route.holder.current is not None or _alias_gone(route)
            for route in self.answering
        )

    def pick(self, request_id: str) -> Route:
        """The route answering ``request_id``: canary for its share of ids, else champion."""
        spec = self.deployment
        if spec is None or spec.canary is None:
            return self.champion
        name = route_for(request_id, spec.canary.weight, salt=spec.name)
        route = self.routes[name]
        usable = route.holder.current is not None and not _alias_gone(route)
        return route if usable else self.champion

    def for_version(self, version: str) -> Route:
        """The answering route serving ``version`` (explicit ``versions/{v}/infer``).

        Raises
        ------
        NotFoundError
            No answering route serves that version.
        """
        for route in self.answering:
            served = route.holder.current
            if served is not None and str(served.version) == version:
                return route
        serving = ", ".join(
            f"{route.name} {route.holder.current.version}"
            for route in self.answering
            if route.holder.current is not None
        )
        raise NotFoundError(
            f"model {self.champion.holder.name!r} version {version} is not served here; "
            f"serving {serving or 'nothing yet'}"
        )

    async def predict(
        self, records: Sequence[Any], request_ids: Sequence[str], route: Route | None = None
    ) -> tuple[Route, Prediction]:
        """Score a request on its route (picked by its first request id unless given),
        then queue the shadow copy.

        Raises
        ------
        loopml.errors.LoopMLError
            As :meth:`Batcher.predict`, for the answering route only.
        """
        ids = list(request_ids)
        chosen = route or (self.pick(ids[0]) if ids else self.champion)
        result = await chosen.batcher.predict(records, ids)
        self._shadow(records, result.request_ids)
        return chosen, result

    def _shadow(self, records: Sequence[Any], request_ids: list[str]) -> None:
        shadow = self.shadow
        if shadow is None:
            return
        task = asyncio.get_running_loop().create_task(
            self._score_shadow(shadow, records, request_ids), name="loopml-shadow"
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _score_shadow(
        self, shadow: Route, records: Sequence[Any], request_ids: list[str]
    ) -> None:
        try:
            await shadow.batcher.predict(records, request_ids)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 -- a shadow never surfaces its failures
            self.shadow_failures += 1
            if self.on_shadow_failure is not None:
                self.on_shadow_failure()
            _log.warning(
                "shadow %s@%s failed for request %s: %s: %s",
                shadow.holder.name,
                shadow.holder.ref,
                request_ids[0] if request_ids else "?",
                type(error).__name__,
                error,
            )

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait (at most ``timeout`` seconds) for queued shadow requests, before shutdown."""
        pending = list(self._pending)
        if pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), timeout)

    def describe(self) -> dict[str, Any]:
        """Route name -> ``{"alias", "version", "error"}`` plus the deployment's split."""
        spec = self.deployment
        routes = {}
        for name, route in self.routes.items():
            served = route.holder.current
            entry: dict[str, Any] = {
                "alias": route.holder.ref,
                "version": None if served is None else served.version,
                "error": route.holder.last_error,
            }
            if name == "canary" and spec is not None and spec.canary is not None:
                entry["weight"] = spec.canary.weight
            routes[name] = entry
        return {
            "deployment": None if spec is None else spec.name,
            "routes": routes,
            "shadow_failures": self.shadow_failures,
        }
