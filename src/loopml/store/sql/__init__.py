"""SQL metadata store: SQLAlchemy 2.0 ORM, Alembic migrations, SQLite (WAL) or PostgreSQL."""

from loopml.store.sql.store import SqlStore, open_store

__all__ = ["SqlStore", "open_store"]
