"""Shared fixtures: metadata stores on every backend, including the real PostgreSQL.

Fixtures
--------
``sqlite_url``
    URL of a fresh SQLite file under ``tmp_path`` (not created yet).
``postgres_server``
    Session-wide handle on the PostgreSQL server at ``127.0.0.1:5432`` (database
    ``test``, user ``postgres``); ``new_schema()`` creates an empty schema and
    returns a store URL pointing at it. All schemas it made are dropped at the
    end of the session. Skips when the server is unreachable, or fails when
    ``LOOPML_REQUIRE_POSTGRES=1``.
``postgres_url``
    URL of this session's PostgreSQL schema, emptied (tables truncated) before
    each test.
``store_url``
    Parametrized over ``sqlite`` and ``postgresql``: a fresh, empty store URL.
``empty_store_url``
    Like ``store_url`` but the database has never been migrated (a new
    SQLite file, a new PostgreSQL schema).
``metadata_store``
    Parametrized over ``memory``, ``sqlite`` and ``postgresql``: an open
    :class:`loopml.store.MetadataStore`, closed after the test.

Set ``LOOPML_TEST_POSTGRES_URL`` to use another server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from loopml.store import MemoryStore, MetadataStore, open_store

POSTGRES_URL = os.environ.get(
    "LOOPML_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresServer:
    """Creates throw-away schemas on the test PostgreSQL server and drops them later."""

    def __init__(self, url: str, run_id: str) -> None:
        self.url = url
        self.run_id = run_id
        self.schemas: list[str] = []

    def new_schema(self) -> str:
        """Create an empty schema; return a store URL whose ``search_path`` is that schema."""
        schema = f"loopml_test_{self.run_id}_{len(self.schemas)}"
        with psycopg.connect(_libpq_url(self.url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        self.schemas.append(schema)
        return f"{self.url}?options=-csearch_path%3D{schema}"

    def truncate(self, store_url: str) -> None:
        """Empty every table of the schema behind ``store_url`` except ``alembic_version``."""
        schema = store_url.rsplit("%3D", 1)[1]
        with psycopg.connect(_libpq_url(self.url), autocommit=True) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> %s",
                    (schema, "alembic_version"),
                )
            ]
            if tables:
                conn.execute(
                    sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                        sql.SQL(", ").join(sql.Identifier(schema, t) for t in tables)
                    )
                )

    def drop_all(self) -> None:
        with psycopg.connect(_libpq_url(self.url), autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        with psycopg.connect(_libpq_url(POSTGRES_URL), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        message = f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}"
        if os.environ.get("LOOPML_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer(POSTGRES_URL, uuid.uuid4().hex[:12])
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def _postgres_session_url(postgres_server: PostgresServer) -> str:
    return postgres_server.new_schema()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, _postgres_session_url: str) -> str:
    postgres_server.truncate(_postgres_session_url)
    return _postgres_session_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'loopml.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty SQL store URL on each SQL backend."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_store_url(request: pytest.FixtureRequest) -> str:
    """A store URL whose database has no tables yet (no migration ran)."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_schema()


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def metadata_store(request: pytest.FixtureRequest) -> Iterator[MetadataStore]:
    """An open, empty metadata store on each backend (memory, SQLite, PostgreSQL)."""
    if request.param == "memory":
        store: MetadataStore = MemoryStore()
    else:
        name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
        store = open_store(str(request.getfixturevalue(name)))
    yield store
    store.close()
