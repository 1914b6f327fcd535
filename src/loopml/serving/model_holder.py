"""The served model and its hot swap when an alias moves.

A :class:`ModelHolder` keeps one :class:`ServedModel` snapshot. A request
reads the snapshot once and uses it from start to finish, so every response
is computed by exactly one version and names it. :meth:`ModelHolder.watch`
polls the registry; when ``ref`` resolves to another version it loads that
version in a worker thread (the event loop keeps serving the old one) and
then replaces the snapshot with one assignment.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread

from loopml.errors import ServingError

__all__ = ["ModelHolder", "ServedModel"]

_log = logging.getLogger("loopml.serving")


@dataclass(frozen=True)
class ServedModel:
    """One loaded model version, as a request sees it.

    Attributes
    ----------
    name : str
        Registered model name.
    version : int
        Model version number.
    model : loopml.models.LoadedModel
        The loaded package (``predict``, ``predict_proba``, ``schema`` ...).
    loaded_at : datetime
        When this version was loaded into the server (UTC).
    """

    name: str
    version: int
    model: Any
    loaded_at: datetime


class ModelHolder:
    """Load ``name@ref`` through a client's registry and swap in new versions.

    Parameters
    ----------
    client : loopml.api.Client
        Source of ``client.registry`` (``resolve`` and ``load``).
    name : str
        Registered model name.
    ref : str
        Alias (``"champion"``) or version number (``"3"``) to follow.
    on_load : callable, optional
        Called with ``(version, seconds)`` after each successful load (metrics).
    """

    def __init__(
        self,
        client: Any,
        name: str,
        ref: str,
        *,
        on_load: Callable[[int, float], None] | None = None,
    ) -> None:
        self.client = client
        self.name = name
        self.ref = ref
        self.on_load = on_load
        self._current: ServedModel | None = None
        self._refresh_lock = threading.Lock()
        self.last_error: str | None = None

    @property
    def current(self) -> ServedModel | None:
        """The model serving requests now, or ``None`` before the first load."""
        return self._current

    def require(self) -> ServedModel:
        """The current model.

        Raises
        ------
        ServingError
            Nothing is loaded yet; the message carries the last load error.
        """
        served = self._current
        if served is None:
            reason = f": {self.last_error}" if self.last_error else " yet"
            raise ServingError(f"model {self.name}@{self.ref} is not loaded{reason}")
        return served

    def refresh(self) -> bool:
        """Resolve ``ref`` and load its version if it differs from the served one.

        Blocking (store query, package download, deserialisation); call it
        from a worker thread. Returns whether a new version was swapped in.

        Raises
        ------
        loopml.errors.LoopMLError
            Resolving or loading failed; the served model (if any) is kept.
        """
        with self._refresh_lock:
            registry = self.client.registry
            version = int(registry.resolve(self.name, self.ref).version)
            served = self._current
            if served is not None and served.version == version:
                self.last_error = None  # e.g. an alias deleted, then set back to this version
                return False
            started = time.perf_counter()
            model = registry.load(self.name, str(version))
            _warm_up(model, self.name, version)
            if self.on_load is not None:
                self.on_load(version, time.perf_counter() - started)
            self._current = ServedModel(self.name, version, model, datetime.now(UTC))
            self.last_error = None
        old = "nothing" if served is None else f"version {served.version}"
        _log.info("serving %s version %d (was %s)", self.name, version, old)
        return True

    async def watch(self, interval: float) -> None:
        """Refresh now and then every ``interval`` seconds, until cancelled.

        Failures are logged and kept in :attr:`last_error`; the served model
        stays in place and the next poll tries again.
        """
        while True:
            await self.load()
            await anyio.sleep(interval)

    async def load(self) -> bool:
        """Refresh once in a worker thread; whether a new version was swapped in.

        Failures are logged and kept in :attr:`last_error`, never raised: the
        served model (if any) stays in place.
        """
        try:
            return await anyio.to_thread.run_sync(self.refresh)
        except Exception as error:  # noqa: BLE001 -- a broken package must not stop serving
            self._note_failure(error)
            return False

    def _note_failure(self, error: BaseException) -> None:
        message = f"{type(error).__name__}: {error}"
        if message != self.last_error:
            _log.warning("cannot refresh %s@%s: %s", self.name, self.ref, message)
        self.last_error = message


def _warm_up(model: Any, name: str, version: int, rows: int = 8) -> None:
    """Score a few reference rows before the swap, so the first request pays no first-call cost.

    A version that cannot score its own reference data is never swapped in.

    Raises
    ------
    loopml.errors.ServingError
        Scoring the reference rows failed; the served version is kept.
    """
    reference = model.reference()
    if reference is None or reference.empty:
        return
    features = [c for c in model.schema.feature_names if c in reference.columns]
    try:
        sample = reference[features].head(rows)
        if model.classes is not None and model.predict_proba(sample) is not None:
            return
        model.predict(sample)
    except Exception as error:  # any failure means "do not swap"
        raise ServingError(
            f"model {name} version {version} failed its warm-up on reference rows: {error}"
        ) from error
