"""Registered models, model versions and aliases: plain frozen values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["AliasRecord", "ModelVersion", "RegisteredModel"]


@dataclass(frozen=True)
class RegisteredModel:
    """A named model; its versions are numbered 1, 2, 3 ... in registration order."""

    name: str
    description: str
    created_at: datetime
    latest_version: int
    aliases: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model.

    ``source`` is the URI of the model package folder; ``run_id`` is the run
    that produced it (``None`` when registered by hand).
    """

    name: str
    version: int
    source: str
    run_id: str | None
    created_at: datetime
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class AliasRecord:
    """An alias (``champion``, ``challenger`` ...) and the version it points at."""

    model: str
    alias: str
    version: int
    updated_at: datetime
