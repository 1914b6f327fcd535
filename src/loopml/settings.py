"""Typed settings, read once at the edge and passed down as plain values.

Environment variables (all optional):

========================  ===============================================  ==========================
variable                  meaning                                          default
========================  ===============================================  ==========================
``LOOPML_HOME``           folder for the embedded store, artifacts, logs   ``./.loopml``
``LOOPML_STORE_URL``      SQLAlchemy URL of the metadata store             ``sqlite:///$HOME/loopml.db``
``LOOPML_ARTIFACT_ROOT``  fsspec URL or folder for artifacts               ``$HOME/artifacts``
``LOOPML_PREDICTION_LOG`` folder for the Parquet prediction log            ``$HOME/predictions``
``LOOPML_ACTOR``          who is recorded in audit events                  the OS user name
========================  ===============================================  ==========================
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["Settings"]


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user database entry (containers)
        return "unknown"


@dataclass(frozen=True)
class Settings:
    """Where loopml keeps its state.

    Parameters
    ----------
    home : Path
        Root folder of the embedded default; created on first connect.
    store_url : str
        SQLAlchemy URL, e.g. ``sqlite:////abs/path/loopml.db`` or
        ``postgresql+psycopg://postgres@127.0.0.1:5432/test``.
    artifact_root : str
        Folder or fsspec URL under which run artifacts and model packages live.
    prediction_log_root : str
        Folder for the Parquet prediction log, partitioned by model and date.
    actor : str
        Name recorded as the actor of audit events.
    """

    home: Path
    store_url: str
    artifact_root: str
    prediction_log_root: str
    actor: str

    @classmethod
    def for_home(cls, home: str | os.PathLike[str], **overrides: str) -> Settings:
        """Settings with every location under ``home`` (the embedded default)."""
        root = Path(home).expanduser().resolve()
        settings = cls(
            home=root,
            store_url=f"sqlite:///{root / 'loopml.db'}",
            artifact_root=str(root / "artifacts"),
            prediction_log_root=str(root / "predictions"),
            actor=_default_actor(),
        )
        return replace(settings, **overrides) if overrides else settings  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``LOOPML_*`` variables; unset ones fall back to the embedded default."""
        env = os.environ if environ is None else environ
        settings = cls.for_home(env.get("LOOPML_HOME", "./.loopml"))
        overrides = {
            field: env[var]
            for var, field in (
                ("LOOPML_STORE_URL", "store_url"),
                ("LOOPML_ARTIFACT_ROOT", "artifact_root"),
                ("LOOPML_PREDICTION_LOG", "prediction_log_root"),
                ("LOOPML_ACTOR", "actor"),
            )
            if env.get(var)
        }
        return replace(settings, **overrides) if overrides else settings  # type: ignore[arg-type]

    def as_env(self) -> dict[str, str]:
        """The environment variables that reproduce these settings in a child process."""
        return {
            "LOOPML_HOME": str(self.home),
            "LOOPML_STORE_URL": self.store_url,
            "LOOPML_ARTIFACT_ROOT": self.artifact_root,
            "LOOPML_PREDICTION_LOG": self.prediction_log_root,
            "LOOPML_ACTOR": self.actor,
        }
