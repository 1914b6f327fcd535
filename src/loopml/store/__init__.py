"""Metadata store, artifact store: the only code that speaks SQL or touches storage.

Table of contents
-----------------
:func:`open_store`
    ``open_store(url) -> MetadataStore`` for SQLite (WAL) or PostgreSQL; applies
    Alembic migrations on first connect.
:class:`MemoryStore`
    In-memory twin of the SQL store; passes the same contract tests.
:class:`ArtifactStore`
    Files and folders under a local or fsspec root.
Protocols (:mod:`loopml.store.base`)
    :class:`ExperimentStore`, :class:`RunStore`, :class:`RegistryStore`,
    :class:`AuditStore`, :class:`LineageStore`, :class:`CacheStore`,
    :class:`TokenStore`, :class:`AlertStore`, :class:`ControllerStore`, :class:`MetadataStore`;
    :class:`~loopml.store.alert_events.AlertEvent` is what :class:`AlertStore` returns,
    :class:`~loopml.store.controller_state.Lease` and
    :class:`~loopml.store.controller_state.ControllerState` what :class:`ControllerStore` returns.

The prediction log lives in :mod:`loopml.store.predictions` and is imported
from there, so that ``import loopml.store`` stays light.
"""

from __future__ import annotations

from loopml.store.artifacts import ArtifactStore
from loopml.store.base import (
    AlertStore,
    AuditStore,
    CacheStore,
    ControllerStore,
    ExperimentStore,
    LineageStore,
    MetadataStore,
    RegistryStore,
    RunStore,
    TokenStore,
)
from loopml.store.memory import MemoryStore

__all__ = [
    "AlertStore",
    "ArtifactStore",
    "AuditStore",
    "CacheStore",
    "ControllerStore",
    "ExperimentStore",
    "LineageStore",
    "MemoryStore",
    "MetadataStore",
    "RegistryStore",
    "RunStore",
    "TokenStore",
    "open_store",
]


def open_store(url: str) -> MetadataStore:
    """Connect to the SQL metadata store at ``url``, migrating it to the latest schema.

    SQLAlchemy and Alembic are imported on the first call, not when
    :mod:`loopml.store` is imported. See :func:`loopml.store.sql.open_store`.

    Parameters
    ----------
    url : str
        ``sqlite:////abs/path/loopml.db`` or
        ``postgresql+psycopg://user@host:5432/db``.

    Raises
    ------
    loopml.errors.ConfigurationError
        If the URL's dialect is neither SQLite nor PostgreSQL.
    loopml.errors.StoreError
        If the database cannot be reached or migrated.
    """
    from loopml.store.sql import open_store as _open_sql_store

    return _open_sql_store(url)
