"""Experiments, runs, metrics and dataset inputs: plain frozen values."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["DatasetInput", "Experiment", "Metric", "Run", "RunStatus"]


class RunStatus(str, enum.Enum):
    """Life cycle of a run, as in MLflow: RUNNING then FINISHED, FAILED or KILLED."""

    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"


@dataclass(frozen=True)
class Experiment:
    """A named group of runs."""

    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class Metric:
    """One metric value: ``key`` at training ``step`` logged at ``timestamp`` (UTC)."""

    key: str
    value: float
    step: int
    timestamp: datetime


@dataclass(frozen=True)
class DatasetInput:
    """A dataset a run read, by content fingerprint.

    ``fingerprint`` is the SHA-256 (hex) of the canonical Arrow IPC
    serialisation of the table (see :func:`loopml.data.fingerprint`);
    ``role`` says how the run used it (``train``, ``eval``, ``reference`` ...).
    """

    fingerprint: str
    name: str
    role: str
    n_rows: int
    n_columns: int


@dataclass(frozen=True)
class Run:
    """One execution: params, tags, inputs, environment; metrics are read separately."""

    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: datetime
    end_time: datetime | None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    inputs: tuple[DatasetInput, ...] = ()
    git_commit: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    artifact_uri: str = ""
