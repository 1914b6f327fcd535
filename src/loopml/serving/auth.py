"""Bearer-token authentication of the model server: FastAPI dependencies per role.

=======================================  =========  ==============================
route                                    role       without it
=======================================  =========  ==============================
``POST /predict``, ``POST /v2/models/{name}[/versions/{v}]/infer``  ``predict``
``POST /feedback``                       ``feedback``
``/admin/...`` (reload ...)              ``admin``
health (``/healthz``, ``/v2/health/*``), metadata, ``/metrics``  open
=======================================  =========  ==============================

A request sends ``Authorization: Bearer <token>``. No token or an unknown,
revoked or malformed one answers **401** with ``WWW-Authenticate: Bearer``
(RFC 6750); a valid token without the route's role answers **403**. Tokens
are created with ``loopml tokens create`` and checked by
:class:`loopml.registry.TokenService` (argon2 hashes in the metadata store; a
verified token is cached in memory for a short time, so the per-request cost
is one dictionary lookup).

Authentication is on unless turned off explicitly (``create_app(auth=False)``,
``loopml serve --no-auth`` or ``LOOPML_SERVE_NO_AUTH=1``); the server then logs
a WARNING at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from starlette.exceptions import HTTPException

from loopml.entities import TOKEN_ROLES
from loopml.errors import ConfigurationError

__all__ = [
    "ADMIN",
    "FEEDBACK",
    "NO_AUTH_ENV",
    "PREDICT",
    "Authenticator",
    "install_auth",
    "no_auth_requested",
    "require",
]

_log = logging.getLogger("loopml.serving")

NO_AUTH_ENV = "LOOPML_SERVE_NO_AUTH"
"""Set to ``1`` (or ``true``, ``yes``, ``on``) to serve without tokens (read by ``loopml
serve`` and :func:`loopml.serving.server.app_from_env`)."""

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}


def no_auth_requested(value: str | None) -> bool:
    """Whether a ``LOOPML_SERVE_NO_AUTH`` value asks to serve without tokens.

    Raises
    ------
    ConfigurationError
        The value is neither a yes (``1``, ``true``, ``yes``, ``on``) nor a no
        (empty, ``0``, ``false``, ``no``, ``off``), case-insensitive: a typo
        must not silently keep or drop authentication.
    """
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(
        f"{NO_AUTH_ENV}={value!r}: say 1/true/yes/on to serve without tokens, "
        "or 0/false/no/off (or leave it unset) to require them"
    )


REALM = 'Bearer realm="loopml"'


class Authenticator:
    """Checks the bearer token of a request against a token service.

    Parameters
    ----------
    tokens : loopml.registry.TokenService or None
        ``None`` turns authentication off: every request is let through.
    """

    def __init__(self, tokens: Any | None) -> None:
        self.tokens = tokens

    @property
    def enabled(self) -> bool:
        return self.tokens is not None

    async def check(self, request: Request, role: str) -> Any | None:
        """The request's :class:`~loopml.entities.ApiToken` if it holds ``role``.

        Returns ``None`` when authentication is off.

        Raises
        ------
        starlette.exceptions.HTTPException
            401 (no, unknown or revoked token) or 403 (token lacks ``role``).
        """
        if self.tokens is None:
            return None
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            raise HTTPException(
                401,
                detail="missing bearer token: send 'Authorization: Bearer <token>' "
                "(create one with `loopml tokens create`)",
                headers={"WWW-Authenticate": REALM},
            )
        token = self.tokens.cached(secret)
        if token is None:
            token = await anyio.to_thread.run_sync(self.tokens.authenticate, secret)
        if token is None:
            raise HTTPException(
                401,
                detail="invalid bearer token (unknown, revoked or malformed)",
                headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
            )
        if role not in token.roles:
            raise HTTPException(
                403,
                detail=f"token {token.name!r} lacks the {role!r} role "
                f"(it has {', '.join(token.roles)})",
                headers={
                    "WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{role}"'
                },
            )
        request.state.token = token
        return token


def require(role: str) -> Callable[[Request], Awaitable[Any]]:
    """A FastAPI dependency that lets a request through only with a token holding ``role``.

    Uses the :class:`Authenticator` that :func:`install_auth` put on the app;
    an app without one refuses every request (fails closed).
    """
    if role not in TOKEN_ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(TOKEN_ROLES)}")

    async def dependency(request: Request) -> Any:
        authenticator = getattr(request.app.state, "authenticator", None)
        if authenticator is None:
            authenticator = Authenticator(_NoTokens())
        return await authenticator.check(request, role)

    dependency.__name__ = f"require_{role}"
    return dependency


class _NoTokens:
    """Token service that knows no token (an app without :func:`install_auth`)."""

    def cached(self, secret: str) -> None:
        return None

    def authenticate(self, secret: str) -> None:
        return None


PREDICT = Depends(require("predict"))
FEEDBACK = Depends(require("feedback"))
ADMIN = Depends(require("admin"))


def install_auth(app: FastAPI, tokens: Any | None) -> Authenticator:
    """Put an :class:`Authenticator` on ``app``; warn when ``tokens`` is ``None`` (no auth)."""
    authenticator = Authenticator(tokens)
    app.state.authenticator = authenticator
    if tokens is None:
        _log.warning(
            "authentication is OFF: every caller may predict, send feedback and use admin "
            "routes (started with --no-auth / auth=False / %s=1)",
            NO_AUTH_ENV,
        )
    return authenticator
