"""What only the SQL store has: migrations, SQLite settings, bulk metric inserts, tamper evidence."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, text

from loopml.entities import Metric
from loopml.errors import ConfigurationError, StoreError
from loopml.store import MemoryStore, open_store
from loopml.store.sql import SqlStore
from loopml.store.sql.engine import normalise_url
from loopml.store.sql.migrate import HEAD_REVISION, current_revision, head_revision
from loopml.store.sql.rows import Base

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_head_revision_constant_matches_alembic() -> None:
    assert HEAD_REVISION == head_revision()


def test_migrations_match_orm_rows(empty_store_url: str) -> None:
    store = open_store(empty_store_url)
    assert isinstance(store, SqlStore)
    try:
        assert current_revision(store.engine) == HEAD_REVISION
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        store.close()


def test_sqlite_file_settings_and_persistence(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "loopml.db"
    store = open_store(f"sqlite:///{path}")
    store.create_experiment("kept")
    store.close()
    assert path.exists()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened = open_store(f"sqlite:///{path}")
    try:
        assert [e.name for e in reopened.list_experiments()] == ["kept"]
        assert isinstance(reopened, SqlStore)
        with reopened.engine.connect() as connection:
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        reopened.close()


def test_sqlite_in_memory() -> None:
    store = open_store("sqlite://")
    try:
        assert store.create_model_version("m", source="s", run_id=None, actor="a").version == 1
    finally:
        store.close()


@pytest.mark.parametrize("url", ["mysql://u@h/db", "oracle://x", "not a url", "sqlite+aiosqlite:///x.db"])
def test_unsupported_urls(url: str) -> None:
    with pytest.raises(ConfigurationError):
        open_store(url)


def test_postgres_urls_use_psycopg() -> None:
    for url in ("postgres://u@h:5432/db", "postgresql://u@h/db", "postgresql+psycopg2://u@h/db"):
        assert normalise_url(url).drivername == "postgresql+psycopg"


def test_unreachable_postgres_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="migrating"):
        open_store("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")


def test_log_metrics_is_one_bulk_insert_in_one_transaction(store_url: str) -> None:
    store = open_store(store_url)
    assert isinstance(store, SqlStore)
    try:
        run = store.create_run(
            store.create_experiment("e").id, name="r", start_time=T0, git_commit=None,
            environment={}, artifact_uri="",
        )
        inserts: list[bool] = []
        commits: list[int] = []

        def on_execute(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith("INSERT INTO METRICS"):
                inserts.append(executemany)

        event.listen(store.engine, "before_cursor_execute", on_execute)
        event.listen(store.engine, "commit", lambda conn: commits.append(1))
        metrics = [Metric("loss", 1.0 / (i + 1), i, T0 + timedelta(milliseconds=i)) for i in range(900)]
        store.log_metrics(run.id, metrics)
        event.remove(store.engine, "before_cursor_execute", on_execute)
        assert len(inserts) == 1  # 900 rows, one statement (insertmanyvalues) or one executemany
        assert len(commits) == 1
        assert store.get_metric_history(run.id, "loss")[899] == metrics[899]
    finally:
        store.close()


def test_tampering_breaks_the_chain(store_url: str) -> None:
    store = open_store(store_url)
    assert isinstance(store, SqlStore)
    try:
        for _ in range(3):
            store.create_model_version("m", source="s", run_id=None, actor="a", reason="ok")
        assert store.verify_chain()
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE audit_events SET reason = 'forged' WHERE id = 2"))
        assert not store.verify_chain()
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE audit_events SET reason = 'ok' WHERE id = 2"))
            connection.execute(text("DELETE FROM audit_events WHERE id = 2"))
        assert not store.verify_chain()
    finally:
        store.close()


def test_memory_tampering_breaks_the_chain() -> None:
    store = MemoryStore()
    store.create_model_version("m", source="s", run_id=None, actor="a")
    store.create_model_version("m", source="s", run_id=None, actor="a")
    assert store.verify_chain()
    events = store._events  # the test reaches into the twin on purpose
    events[0] = dataclasses.replace(events[0], actor="mallory")
    assert not store.verify_chain()
