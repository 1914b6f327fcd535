"""One rooted exception tree for loopml.

Every error a user can see derives from :class:`LoopMLError`, and every
message names the offending column, model, version, step or file. The domain
knows nothing of HTTP: ``loopml.serving`` alone maps these classes to status
codes.

::

    LoopMLError
    ├── ConfigurationError          bad settings, bad YAML (pipeline, policy)
    ├── StoreError                  the metadata store failed or was misused
    │   ├── NotFoundError           no such experiment, run, model, version, alias
    │   ├── AlreadyExistsError      a name that must be unique is taken
    │   └── ConflictError           a change refused because of the current state
    │                               (e.g. deleting a version an alias points at)
    ├── DataError                   input data is unusable
    │   └── SchemaViolationError    data breaks its contract (carries the violations)
    ├── ModelPackageError           a model package cannot be saved or loaded
    │   ├── IntegrityError          a file's SHA-256 differs from the manifest
    │   └── UntrustedFormatError    pickle/joblib refused without explicit trust
    ├── PipelineError               a pipeline step failed (names the step)
    ├── MonitoringError             a drift or performance computation is impossible
    └── ServingError                a model cannot be served
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AlreadyExistsError",
    "ConfigurationError",
    "ConflictError",
    "DataError",
    "IntegrityError",
    "LoopMLError",
    "ModelPackageError",
    "MonitoringError",
    "NotFoundError",
    "PipelineError",
    "SchemaViolationError",
    "ServingError",
    "StoreError",
    "UntrustedFormatError",
]


class LoopMLError(Exception):
    """Root of every error loopml raises on purpose."""


class ConfigurationError(LoopMLError):
    """Settings, pipeline YAML or policy YAML are invalid; the message names the field."""


class StoreError(LoopMLError):
    """The metadata store failed or was asked for something impossible."""


class NotFoundError(StoreError):
    """No experiment, run, registered model, model version or alias by that name."""


class AlreadyExistsError(StoreError):
    """A name that must be unique is already taken."""


class ConflictError(StoreError):
    """The change is refused because of the current state of the store."""


class DataError(LoopMLError):
    """Input data is unusable (empty, wrong shape, unreadable)."""


class SchemaViolationError(DataError):
    """Data breaks its contract.

    Parameters
    ----------
    violations : sequence
        The :class:`loopml.schema.Violation` objects found; each names the
        column, the kind of violation, the count and example row numbers.
    """

    def __init__(self, violations: Sequence[Any]) -> None:
        self.violations = tuple(violations)
        lines = "; ".join(str(v) for v in self.violations[:10])
        more = len(self.violations) - 10
        suffix = f" (and {more} more)" if more > 0 else ""
        super().__init__(f"{len(self.violations)} schema violation(s): {lines}{suffix}")


class ModelPackageError(LoopMLError):
    """A model package cannot be saved or loaded."""


class IntegrityError(ModelPackageError):
    """A file in a model package does not match the SHA-256 in its manifest."""


class UntrustedFormatError(ModelPackageError):
    """A pickle or joblib file was refused because the caller did not pass ``trust``."""


class PipelineError(LoopMLError):
    """A pipeline step failed; the message names the step."""


class MonitoringError(LoopMLError):
    """A drift or performance computation cannot be done on the given windows."""


class ServingError(LoopMLError):
    """A model cannot be loaded or served."""
