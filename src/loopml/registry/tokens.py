"""API tokens of the model server: create, list, revoke, authenticate.

A token looks like ``lml_<public>_<secret>``: ``public`` is 16 random hex
characters, ``secret`` 43 URL-safe characters (256 random bits). The store
never sees the token itself, only

- ``lookup``: SHA-256 of the public part, to find the row with one indexed
  query, and
- ``secret_hash``: an argon2id hash (argon2-cffi's :class:`PasswordHasher`,
  default RFC 9106 parameters) of the whole token.

Checking a token costs one store read and one argon2 verification (tens of
milliseconds by design). :meth:`TokenService.authenticate` therefore caches
successful verifications in memory, keyed by SHA-256 of the token, for
``cache_seconds`` (default 30 s): later requests with the same token cost one
dictionary lookup. Failed verifications are never cached. The price is that
a token revoked by another process (``loopml tokens revoke``) keeps working
for at most ``cache_seconds`` in a server that verified it recently; a
revocation through the same service takes effect at once.

Roles (:data:`loopml.entities.TOKEN_ROLES`) are independent: ``admin`` does
not imply ``predict`` or ``feedback``. Creating and revoking a token is
audited (target ``token:<name>``).

Examples
--------
>>> from loopml.store import MemoryStore
>>> service = TokenService(MemoryStore(), actor="alice")
>>> token, secret = service.create("web", ["predict"])
>>> service.authenticate(secret).name
'web'
>>> service.authenticate(secret + "x") is None
True
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from loopml.entities import TOKEN_ROLES, ApiToken
from loopml.errors import ConfigurationError

__all__ = ["TOKEN_PREFIX", "TokenService", "check_roles", "lookup_id", "public_part"]

TOKEN_PREFIX = "lml_"
"""Every loopml token starts with this (so secret scanners can recognise it)."""

_PUBLIC_CHARS = 16
_MAX_NAME = 100
_CACHE_SIZE = 4096


def check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """Sorted, de-duplicated ``roles``; each must be one of :data:`TOKEN_ROLES`.

    Raises
    ------
    ConfigurationError
        No role, or a role that does not exist (the message names it).
    """
    chosen = tuple(sorted(set(roles)))
    unknown = [r for r in chosen if r not in TOKEN_ROLES]
    if unknown:
        raise ConfigurationError(
            f"unknown token role(s) {', '.join(map(repr, unknown))}; "
            f"roles are {', '.join(TOKEN_ROLES)}"
        )
    if not chosen:
        raise ConfigurationError(f"a token needs at least one role of {', '.join(TOKEN_ROLES)}")
    return chosen


def public_part(token: str) -> str | None:
    """The public part of ``token``, or ``None`` if it is not shaped like a loopml token."""
    end = len(TOKEN_PREFIX) + _PUBLIC_CHARS
    if not token.startswith(TOKEN_PREFIX) or len(token) <= end + 1 or token[end] != "_":
        return None
    public = token[len(TOKEN_PREFIX) : end]
    if any(c not in "0123456789abcdef" for c in public):
        return None
    return public


def lookup_id(public: str) -> str:
    """SHA-256 (hex) of a token's public part: the store's lookup id."""
    return hashlib.sha256(public.encode("ascii")).hexdigest()


def _cache_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenService:
    """Create, list, revoke and check the bearer tokens kept in a metadata store.

    Parameters
    ----------
    store : loopml.store.TokenStore
        Where the hashed tokens live.
    actor : str
        Recorded as the actor of the audit events.
    cache_seconds : float
        How long a successful verification is remembered (0 disables the cache).
    clock : callable
        Monotonic seconds (for tests).
    """

    def __init__(
        self,
        store: Any,
        *,
        actor: str,
        cache_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.actor = actor
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._hasher = PasswordHasher()
        self._cache: dict[str, tuple[ApiToken, float]] = {}
        self._lock = threading.Lock()

    def create(self, name: str, roles: Iterable[str], *, reason: str = "") -> tuple[ApiToken, str]:
        """Create a token; returns it and its secret, which is shown only this once.

        Raises
        ------
        ConfigurationError
            Blank or over-long name, unknown or missing role.
        loopml.errors.AlreadyExistsError
            An active token already has ``name``.
        """
        name = name.strip()
        if not name or len(name) > _MAX_NAME or not name.isprintable():
            raise ConfigurationError(
                f"token name {name!r} must be 1 to {_MAX_NAME} printable characters"
            )
        chosen = check_roles(roles)
        public = secrets.token_hex(_PUBLIC_CHARS // 2)
        secret = f"{TOKEN_PREFIX}{public}_{secrets.token_urlsafe(32)}"
        token = self.store.create_token(
            name=name,
            roles=chosen,
            lookup=lookup_id(public),
            secret_hash=self._hasher.hash(secret),
            actor=self.actor,
            reason=reason,
        )
        return token, secret

    def list(self, *, include_revoked: bool = False) -> list[ApiToken]:
        """Tokens, oldest first (active ones only unless ``include_revoked``)."""
        return list(self.store.list_tokens(include_revoked=include_revoked))

    def revoke(self, name_or_id: str, *, reason: str = "") -> ApiToken:
        """Revoke the active token with this name or id; it stops working at once here.

        Raises
        ------
        loopml.errors.NotFoundError
            No active token has that name or id.
        """
        token: ApiToken = self.store.revoke_token(name_or_id, actor=self.actor, reason=reason)
        with self._lock:
            for key in [k for k, (t, _) in self._cache.items() if t.id == token.id]:
                del self._cache[key]
        return token

    def cached(self, secret: str) -> ApiToken | None:
        """The token ``secret`` was recently verified as, without any I/O; else ``None``."""
        key = _cache_key(secret)
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                return None
            if hit[1] <= self.clock():
                del self._cache[key]
                return None
            return hit[0]

    def authenticate(self, secret: str) -> ApiToken | None:
        """The active token whose secret is ``secret``, or ``None``.

        Blocking on a cache miss (a store read and an argon2 verification);
        call it from a worker thread in async code, after :meth:`cached`.
        """
        hit = self.cached(secret)
        if hit is not None:
            return hit
        public = public_part(secret)
        if public is None:
            return None
        token: ApiToken | None = self.store.find_token(lookup_id(public))
        if token is None or not token.active:
            return None
        try:
            self._hasher.verify(token.secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return None
        if self.cache_seconds > 0:
            with self._lock:
                if len(self._cache) >= _CACHE_SIZE:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[_cache_key(secret)] = (token, self.clock() + self.cache_seconds)
        return token
