"""TokenStore contract: memory, SQLite and PostgreSQL behave the same."""

from __future__ import annotations

import pytest

from loopml.errors import AlreadyExistsError, NotFoundError
from loopml.store import MetadataStore


def _create(store: MetadataStore, name: str, lookup: str, *roles: str) -> str:
    token = store.create_token(
        name=name, roles=roles or ("predict",), lookup=lookup, secret_hash=f"hash-{lookup}",
        actor="alice", reason="test",
    )
    return token.id


def test_create_find_list(metadata_store: MetadataStore) -> None:
    store = metadata_store
    token = store.create_token(
        name="web", roles=["feedback", "predict", "predict"], lookup="a" * 64,
        secret_hash="$argon2id$...", actor="alice",
    )
    assert len(token.id) == 32 and token.name == "web" and token.active
    assert token.roles == ("feedback", "predict")
    assert token.created_by == "alice" and token.created_at.tzinfo is not None
    assert "argon2" not in repr(token)  # the hash stays out of logs
    assert store.find_token("a" * 64) == token
    assert store.find_token("b" * 64) is None
    _create(store, "batch", "c" * 64, "admin")
    assert [t.name for t in store.list_tokens()] == ["web", "batch"]


def test_names_and_lookups_are_unique_among_active(metadata_store: MetadataStore) -> None:
    store = metadata_store
    _create(store, "web", "a" * 64)
    with pytest.raises(AlreadyExistsError, match="web"):
        _create(store, "web", "b" * 64)
    with pytest.raises(AlreadyExistsError, match="lookup"):
        _create(store, "other", "a" * 64)
    assert [t.name for t in store.list_tokens()] == ["web"]


def test_revoke_by_name_or_id_keeps_the_row(metadata_store: MetadataStore) -> None:
    store = metadata_store
    first = _create(store, "web", "a" * 64)
    second = _create(store, "batch", "b" * 64)
    revoked = store.revoke_token("web", actor="bob", reason="leaked")
    assert revoked.id == first and not revoked.active and revoked.revoked_at is not None
    assert store.revoke_token(second, actor="bob").name == "batch"
    assert store.list_tokens() == []
    assert [t.name for t in store.list_tokens(include_revoked=True)] == ["web", "batch"]
    found = store.find_token("a" * 64)
    assert found is not None and not found.active  # still found, so it can be refused
    with pytest.raises(NotFoundError, match="web"):
        store.revoke_token("web", actor="bob")
    # a revoked name can be given to a new token
    again = _create(store, "web", "c" * 64)
    assert again != first and [t.name for t in store.list_tokens()] == ["web"]


def test_create_and_revoke_are_audited(metadata_store: MetadataStore) -> None:
    store = metadata_store
    token_id = _create(store, "web", "a" * 64, "predict", "feedback")
    store.revoke_token("web", actor="bob", reason="rotated")
    events = store.list_events(target_prefix="token:")
    assert [(e.action, e.target, e.actor) for e in events] == [
        ("token.create", "token:web", "alice"),
        ("token.revoke", "token:web", "bob"),
    ]
    assert events[0].after == {"id": token_id, "roles": ["feedback", "predict"]}
    assert events[1].before == {"id": token_id, "roles": ["feedback", "predict"]}
    assert events[1].reason == "rotated"
    assert all("hash-" not in str(e.after) + str(e.before) for e in events)
    assert store.verify_chain()
