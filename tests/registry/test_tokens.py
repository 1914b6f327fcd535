"""TokenService: argon2-hashed secrets, roles, cache of verified tokens, revocation."""

from __future__ import annotations

import pytest

from loopml.errors import AlreadyExistsError, ConfigurationError, NotFoundError
from loopml.registry.tokens import TOKEN_PREFIX, TokenService, lookup_id, public_part
from loopml.store import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.finds = 0

    def find_token(self, lookup: str):  # type: ignore[no-untyped-def]
        self.finds += 1
        return super().find_token(lookup)


def test_secret_is_shown_once_and_stored_hashed() -> None:
    store = MemoryStore()
    token, secret = TokenService(store, actor="alice").create("web", ["predict", "feedback"])
    assert secret.startswith(TOKEN_PREFIX) and len(secret) > 60
    assert token.roles == ("feedback", "predict")
    stored = store.list_tokens()[0]
    assert secret not in repr(stored) and secret not in stored.secret_hash
    assert stored.secret_hash.startswith("$argon2id$")
    public = public_part(secret)
    assert public is not None and stored.lookup == lookup_id(public) and public not in stored.lookup


def test_authenticate_and_cache() -> None:
    store, clock = CountingStore(), Clock()
    service = TokenService(store, actor="alice", cache_seconds=30, clock=clock)
    token, secret = service.create("web", ["predict"])
    assert service.cached(secret) is None
    assert service.authenticate(secret) == token
    assert service.authenticate(secret) == token and store.finds == 1  # cached
    clock.now += 31
    assert service.cached(secret) is None
    assert service.authenticate(secret) == token and store.finds == 2
    # wrong secrets are refused and never cached
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for bad in (wrong, "", "Bearer", "lml_", TOKEN_PREFIX + "z" * 16 + "_x", secret + "x"):
        assert service.authenticate(bad) is None
        assert service.cached(bad) is None


def test_revoke_takes_effect_at_once_in_the_same_service() -> None:
    store = MemoryStore()
    service = TokenService(store, actor="alice")
    other = TokenService(store, actor="server", cache_seconds=0)
    _, secret = service.create("web", ["predict"])
    assert service.authenticate(secret) is not None
    service.revoke("web", reason="leaked")
    assert service.authenticate(secret) is None
    assert other.authenticate(secret) is None
    with pytest.raises(NotFoundError):
        service.revoke("web")


def test_bad_names_and_roles() -> None:
    service = TokenService(MemoryStore(), actor="alice")
    with pytest.raises(ConfigurationError, match="'root'"):
        service.create("web", ["predict", "root"])
    with pytest.raises(ConfigurationError, match="at least one role"):
        service.create("web", [])
    with pytest.raises(ConfigurationError, match="printable"):
        service.create("  ", ["predict"])
    service.create("web", ["admin"])
    with pytest.raises(AlreadyExistsError, match="web"):
        service.create("web", ["admin"])
