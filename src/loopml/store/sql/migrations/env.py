"""Alembic environment for the loopml metadata store.

Run programmatically by :func:`loopml.store.sql.migrate.upgrade`, which
passes an open connection (already inside a transaction that holds the
migration lock) as ``config.attributes["connection"]``. Without one, an
engine is built from the ``sqlalchemy.url`` option so the ``alembic`` command
line works too.
"""

from __future__ import annotations

from alembic import context

from loopml.store.sql.engine import make_engine
from loopml.store.sql.rows import Base

config = context.config
target_metadata = Base.metadata


def _run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as own:
            context.configure(connection=own, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
