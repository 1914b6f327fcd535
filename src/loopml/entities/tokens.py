"""API tokens of the model server: who may call which endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["TOKEN_ROLES", "ApiToken"]

TOKEN_ROLES = ("predict", "feedback", "admin")
"""Roles a token can hold. They are independent: ``admin`` does not imply ``predict``.

``predict``
    ``POST /predict`` and ``POST /v2/models/{name}/infer``.
``feedback``
    ``POST /feedback``.
``admin``
    Routes that change what the server does (``POST /admin/reload`` ...).
"""


@dataclass(frozen=True)
class ApiToken:
    """A bearer token as the store keeps it: never the secret, only its hashes.

    Attributes
    ----------
    id : str
        32 hex characters.
    name : str
        Unique among tokens that are not revoked.
    roles : tuple of str
        Sorted subset of :data:`TOKEN_ROLES`.
    lookup : str
        SHA-256 (hex) of the token's public prefix, to find the row in one
        indexed query.
    secret_hash : str
        Password hash (argon2id, PHC string) of the whole token.
    created_at : datetime
        UTC.
    created_by : str
        Actor that created it.
    revoked_at : datetime or None
        UTC time of revocation; ``None`` while the token is active.
    """

    id: str
    name: str
    roles: tuple[str, ...]
    lookup: str
    secret_hash: str = field(repr=False)
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the token is not revoked."""
        return self.revoked_at is None
