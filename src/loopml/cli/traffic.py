"""Drive a real loopml server process over HTTP (used by the quickstart and e2e tests)."""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

import httpx
import pandas as pd

from loopml.api import connect
from loopml.errors import LoopMLError, ServingError
from loopml.settings import Settings

__all__ = ["ServerProcess", "free_port", "post_feedback", "send_rows"]


def _terminate_with_parent() -> None:
    """In the child: ask Linux to send SIGTERM when the parent dies (no orphaned servers)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``loopml serve MODEL_REF`` in a child process on a free 127.0.0.1 port.

    A context manager: entering creates a bearer token with the ``predict``
    and ``feedback`` roles (``token``; pass it to :func:`send_rows` and
    :func:`post_feedback`), starts the server and waits until
    ``/v2/health/ready`` answers 200; leaving sends SIGTERM (the server flushes
    its prediction log), waits for the process to exit and revokes the token.
    """

    def __init__(
        self, settings: Settings, model_ref: str, *, startup_timeout: float = 60.0,
        poll_interval: float = 0.5,
    ) -> None:
        self.settings = settings
        self.model_ref = model_ref
        self.startup_timeout = startup_timeout
        self.poll_interval = poll_interval
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.token: str | None = None
        self._token_id: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` header carrying :attr:`token`."""
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}

    def __enter__(self) -> Self:
        self.port = free_port()
        with connect(self.settings) as client:
            created, self.token = client.tokens.create(
                f"serve-{self.port}-{secrets.token_hex(4)}", ["predict", "feedback"],
                reason=f"traffic for {self.model_ref}",
            )
            self._token_id = created.id
        env = os.environ | self.settings.as_env()
        self.log_path = self.settings.home / f"server-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "loopml", "serve", self.model_ref, "--port", str(self.port),
             "--poll-interval", str(self.poll_interval), "--log-level", "warning"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT,
            preexec_fn=_terminate_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._close_log()
                raise ServingError(
                    f"server for {self.model_ref} exited with code {self.process.returncode}; "
                    f"log:\n{self.log_path.read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{self.url}/v2/health/ready", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise ServingError(f"server for {self.model_ref} not ready after {self.startup_timeout} s")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_log()
        if self._token_id is not None:
            with contextlib.suppress(LoopMLError), connect(self.settings) as client:
                client.tokens.revoke(self._token_id, reason="server stopped")
            self._token_id = None

    def _close_log(self) -> None:
        log = getattr(self, "_log", None)
        if log is not None and not log.closed:
            log.close()

    def wait_for_version(self, row: pd.DataFrame, version: int, *, timeout: float = 30.0) -> int:
        """Send ``row`` until the server answers with ``version``; return the version seen."""
        deadline = time.monotonic() + timeout
        seen = -1
        with httpx.Client(base_url=self.url, timeout=10.0, headers=self.headers) as http:
            while time.monotonic() < deadline:
                response = http.post("/predict", json={"records": _records(row)})
                response.raise_for_status()
                seen = int(response.json()["version"])
                if seen == version:
                    break
                time.sleep(0.25)
        return seen


def send_rows(
    url: str, frame: pd.DataFrame, *, batch_size: int = 20,
    progress: Callable[[str], Any] | None = None, token: str | None = None,
) -> tuple[list[str], set[int]]:
    """POST ``frame`` to ``url``/predict in order, ``batch_size`` rows per request.

    Returns the request ids (one per row, in row order) and the set of model
    versions that answered. ``token`` is sent as a bearer token (role
    ``predict``). Raises :class:`loopml.errors.ServingError` on any non-200
    answer, naming the status and body.
    """
    request_ids: list[str] = []
    versions: set[int] = set()
    n = len(frame)
    step = max(1, (n // batch_size) // 4)
    with httpx.Client(base_url=url, timeout=30.0, headers=_bearer(token)) as http:
        for i, start in enumerate(range(0, n, batch_size)):
            chunk = frame.iloc[start:start + batch_size]
            response = http.post("/predict", json={"records": _records(chunk)})
            if response.status_code != 200:
                raise ServingError(f"/predict answered {response.status_code}: {response.text[:500]}")
            body = response.json()
            request_ids.extend(body["request_ids"])
            versions.add(int(body["version"]))
            if progress is not None and i and i % step == 0:
                progress(f"    {len(request_ids):,}/{n:,} rows sent")
    return request_ids, versions


def post_feedback(
    url: str, request_ids: Sequence[str], labels: Sequence[Any], *, batch: int = 1000,
    token: str | None = None,
) -> int:
    """POST ground truth for ``request_ids`` to ``url``/feedback in batches; returns rows sent.

    ``token`` is sent as a bearer token (role ``feedback``).
    """
    if len(request_ids) != len(labels):
        raise ValueError(f"{len(request_ids)} request ids but {len(labels)} labels")
    with httpx.Client(base_url=url, timeout=30.0, headers=_bearer(token)) as http:
        for start in range(0, len(request_ids), batch):
            rows = [
                {"request_id": rid, "label": _plain(label)}
                for rid, label in zip(request_ids[start:start + batch], labels[start:start + batch])
            ]
            response = http.post("/feedback", json={"feedback": rows})
            if response.status_code != 200:
                raise ServingError(f"/feedback answered {response.status_code}: {response.text[:500]}")
    return len(request_ids)


def _bearer(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
