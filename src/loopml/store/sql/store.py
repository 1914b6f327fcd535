"""The SQL metadata store (SQLite or PostgreSQL) and its factory :func:`open_store`."""

from __future__ import annotations

from loopml.store.sql.alert_store import SqlAlertStore
from loopml.store.sql.controller_store import SqlControllerStore
from loopml.store.sql.engine import make_engine
from loopml.store.sql.migrate import upgrade
from loopml.store.sql.registry_store import SqlRegistryStore
from loopml.store.sql.run_store import SqlRunStore
from loopml.store.sql.token_store import SqlTokenStore

__all__ = ["SqlStore", "open_store"]


class SqlStore(SqlRunStore, SqlRegistryStore, SqlTokenStore, SqlAlertStore, SqlControllerStore):
    """A :class:`loopml.store.base.MetadataStore` over SQLAlchemy 2.0.

    Build it with :func:`open_store`; the constructor only stores the engine.
    One instance may be shared by the threads of a process; every method runs
    in its own short transaction.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        An engine from :func:`loopml.store.sql.engine.make_engine` whose
        database is migrated to head.
    """


def open_store(url: str) -> SqlStore:
    """Connect to the metadata store at ``url``, creating or migrating its schema.

    Parameters
    ----------
    url : str
        ``sqlite:////abs/path/loopml.db`` (parent folder created if missing),
        ``sqlite://`` (in memory, one connection), or
        ``postgresql+psycopg://user@host:port/db``; add
        ``?options=-csearch_path%3Dschema`` to use a PostgreSQL schema.

    Returns
    -------
    SqlStore
        Call :meth:`SqlStore.close` when done.

    Raises
    ------
    loopml.errors.ConfigurationError
        If ``url`` names an unsupported database.
    loopml.errors.StoreError
        If the database cannot be reached or migrated.

    Examples
    --------
    >>> import tempfile, os
    >>> store = open_store(f"sqlite:///{os.path.join(tempfile.mkdtemp(), 'loopml.db')}")
    >>> store.create_experiment("demo").name
    'demo'
    >>> store.close()
    """
    engine = make_engine(url)
    try:
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine)
