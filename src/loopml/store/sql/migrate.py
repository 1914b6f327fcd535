"""Apply the Alembic migrations, safely when several processes start at once.

Alembic is configured in code (no ``alembic.ini``): ``script_location`` is the
``migrations`` folder next to this module. The upgrade runs on one connection
inside one transaction that first takes a lock every other migrating process
also takes:

- PostgreSQL: a session-level ``pg_advisory_lock`` on a fixed key, so the
  second process waits, then finds the schema at head and does nothing.
- SQLite: ``BEGIN IMMEDIATE`` (the write lock) before Alembic reads the
  version table; DDL is transactional under that lock.

Transient lock errors are retried a bounded number of times. A database
already at :data:`HEAD_REVISION` is recognised with one query and Alembic is
not even imported, which keeps process start-up (CLI, serving workers) fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from loopml.store.sql.engine import WRITE
from loopml.store.sql.retry import retrying

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "MIGRATION_LOCK_KEY",
    "alembic_config",
    "current_revision",
    "head_revision",
    "upgrade",
]

HEAD_REVISION = "0004"
"""Newest revision in ``migrations/versions``; update it with every new migration
(``tests/store/test_sql_store.py`` checks it against Alembic)."""

MIGRATION_LOCK_KEY = 7_316_021_915_001
"""Key of the PostgreSQL advisory lock held while migrating (any fixed bigint)."""


def alembic_config() -> Config:
    """An Alembic :class:`~alembic.config.Config` pointing at loopml's migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    return config


def head_revision() -> str:
    """The newest migration revision id shipped with this loopml, as Alembic sees it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "loopml ships at least one migration"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database at ``engine`` is at; ``None`` when never migrated."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database at ``engine`` to ``revision`` (default: the newest).

    Raises
    ------
    loopml.errors.StoreError
        If the database stays locked or unreachable after the retries.
    """
    what = f"migrating the metadata store at {engine.url!r}"
    at_head = retrying(lambda: current_revision(engine), what=what) == HEAD_REVISION
    if at_head and revision in ("head", HEAD_REVISION):
        return
    from alembic import command

    config = alembic_config()
    is_postgres = engine.dialect.name == "postgresql"

    def attempt() -> None:
        with engine.execution_options(**WRITE).connect() as connection:
            if is_postgres:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                connection.commit()
            try:
                with connection.begin():
                    config.attributes["connection"] = connection
                    command.upgrade(config, revision)
            finally:
                config.attributes.pop("connection", None)
                if is_postgres:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                    )
                    connection.commit()

    retrying(attempt, what=what)
