"""Monitoring from mergeable profiles: each byte of the prediction log is profiled once.

:func:`monitor_from_profiles` tests drift between two profiles
(:mod:`loopml.monitoring.profile`) instead of two frames:

- the **reference profile** is made once per model version, from the
  reference data in its package, and kept in the profile cache;
- the **prediction log** is profiled **file by file**. Log files never change
  once written (each write is a new file, see
  :meth:`loopml.store.predictions.PredictionLogReader.files`), so a file's
  profile is cached under its name, and a monitoring run reads only the files
  it has not profiled before, then merges all the file profiles of the window.

The cache lives under ``LOOPML_HOME/profiles/<model>/<kinds>/``, where
``<kinds>`` is a hash of what is profiled (columns, numeric or categorical,
sketch settings): when the contract changes, profiles are made afresh rather
than mixed. Drift from profiles agrees with the exact tests within the bounds
documented in :mod:`loopml.monitoring.profile.drift`.

Which columns are numeric follows the ``loopml`` preset of
:class:`loopml.monitoring.DriftConfig`: integer and float columns are numeric
unless an integer column has at most ``integer_categorical_max_unique``
distinct reference values; categorical, boolean and string columns are
categorical, except identifier-like string columns (their top values cover less
than half of the reference), which :func:`loopml.monitoring.compute_drift` does not
test either; datetime columns are not profiled.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pandas as pd

from loopml.errors import MonitoringError
from loopml.monitoring import DriftConfig, DriftReport
from loopml.monitoring.drift import apply_multiple_testing, identifier_like
from loopml.monitoring.profile import (
    DatasetProfile,
    ProfileKind,
    ProfileSettings,
    column_drift_from_profiles,
    merge_all,
    profile_frame,
)
from loopml.schema import Schema

if TYPE_CHECKING:
    from loopml.api import Client

__all__ = ["ProfileCache", "ProfiledDrift", "monitor_from_profiles", "profile_kinds"]

_NUMERIC = frozenset({"integer", "float"})
_CATEGORICAL = frozenset({"categorical", "boolean", "string"})


def profile_kinds(
    schema: Schema, reference: pd.DataFrame, config: DriftConfig | None = None
) -> dict[str | int, ProfileKind]:
    """Column name -> ``"numeric"`` or ``"categorical"`` for every profiled feature.

    Follows the ``loopml`` preset (distinct values counted on the reference),
    so the kinds are fixed for a model version before any traffic arrives.
    """
    config = config or DriftConfig()
    kinds: dict[str | int, ProfileKind] = {}
    for column in schema.columns:
        if column.name == schema.target or column.name not in reference.columns:
            continue
        logical = str(getattr(column.logical_type, "value", column.logical_type))
        if logical == "string" and identifier_like(reference[column.name], config.string_top_k):
            continue  # compute_drift does not test it either
        if logical in _CATEGORICAL:
            kinds[str(column.name)] = "categorical"
        elif logical in _NUMERIC:
            distinct = int(reference[column.name].nunique(dropna=True))
            few = config.few_valued(logical, distinct)
            kinds[str(column.name)] = "categorical" if few else "numeric"
    return kinds


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


class ProfileCache:
    """Profiles of reference data and prediction log files, on disk.

    Parameters
    ----------
    folder : path
        Cache root (``LOOPML_HOME/profiles`` for :func:`monitor_from_profiles`).
    model : str
        Registered model name.
    kinds : mapping of column name to {"numeric", "categorical"}
        What is profiled (:func:`profile_kinds`).
    settings : ProfileSettings, optional
        Sketch sizes; part of the cache key.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        model: str,
        kinds: dict[str | int, ProfileKind],
        settings: ProfileSettings | None = None,
    ) -> None:
        self.kinds = dict(kinds)
        self.settings = settings or ProfileSettings()
        key = json.dumps(
            {"kinds": sorted(self.kinds.items()), "settings": repr(self.settings)}, sort_keys=True
        )
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.folder = Path(folder) / quote(model, safe="-_.") / digest
        self.profiled = 0
        self.cached = 0

    def _load_or_make(self, path: Path, make: Callable[[], DatasetProfile]) -> DatasetProfile:
        if path.exists():
            try:
                profile = DatasetProfile.from_json(path.read_text(encoding="utf-8"))
            except (ValueError, KeyError, MonitoringError):
                pass  # a damaged cache entry is made again
            else:
                self.cached += 1
                return profile
        profile = make()
        _atomic_write(path, profile.to_json())
        self.profiled += 1
        return profile

    def reference(self, version: int, frame: pd.DataFrame) -> DatasetProfile:
        """The profile of a version's reference data, made on first use."""
        return self._load_or_make(
            self.folder / f"reference-v{version}.json",
            lambda: profile_frame(frame, self.kinds, settings=self.settings),
        )

    def log_file(self, path: Path, read: Callable[[Path], pd.DataFrame]) -> DatasetProfile:
        """The profile of one prediction log file; ``read(path)`` gives its rows."""

        def make() -> DatasetProfile:
            rows = read(path)
            for name in self.kinds:  # a column the logged rows never had: all missing
                if name not in rows.columns:
                    rows[name] = None
            return profile_frame(rows, self.kinds, settings=self.settings)

        return self._load_or_make(
            self.folder / "log" / f"{path.parent.name}-{path.stem}.json", make
        )


@dataclass(frozen=True)
class ProfiledDrift:
    """Drift from profiles, and what the run had to read.

    Attributes
    ----------
    drift : DriftReport
        Per-column verdicts, as :func:`loopml.monitoring.compute_drift` gives.
    files : int
        Prediction log files in the window.
    profiled : int
        Profiles made by this run (log files and, the first time, the reference).
    cached : int
        Profiles read from the cache.
    """

    drift: DriftReport
    files: int
    profiled: int
    cached: int

    def to_dict(self) -> dict[str, Any]:
        """Strict JSON: the drift report plus the file counts."""
        return {
            "drift": self.drift.to_dict(),
            "files": self.files,
            "profiled": self.profiled,
            "cached": self.cached,
        }


def monitor_from_profiles(
    client: Client,
    model: str,
    ref: str = "champion",
    *,
    since: date | None = None,
    config: DriftConfig | None = None,
) -> ProfiledDrift:
    """Drift of everything logged for ``model`` (since ``since``) against its reference,
    from cached and incremental profiles.

    Parameters
    ----------
    client : loopml.api.Client
    model : str
        Registered model name.
    ref : str
        Alias or version whose schema and reference data are used.
    since : date, optional
        First day (UTC) of the prediction log to include; default all of it.
    config : DriftConfig, optional
        Test choice and thresholds (``preset`` must be ``"loopml"``: Evidently's
        choice needs the current window's distinct values, which a profile of
        many files does not keep exactly).

    Returns
    -------
    ProfiledDrift

    Raises
    ------
    MonitoringError
        No reference data, nothing logged in the window, or the ``evidently`` preset.
    """
    config = config or DriftConfig()
    if config.preset != "loopml":
        raise MonitoringError("drift from profiles uses the 'loopml' preset; drop preset=evidently")
    version = client.registry.resolve(model, ref)
    loaded = client.registry.load(model, str(version.version))
    reference = loaded.reference()
    if reference is None:
        raise MonitoringError(f"model {model} v{version.version} has no stored reference data")
    kinds = profile_kinds(loaded.schema, reference, config)
    cache = ProfileCache(Path(client.settings.home) / "profiles", model, kinds)
    reference_profile = cache.reference(int(version.version), reference[list(kinds)])
    reader = client.predictions
    files = reader.files(model, since=since)
    if not files:
        raise MonitoringError(f"no predictions logged for model {model!r} in the window")
    current = merge_all([cache.log_file(path, reader.read_file) for path in files])
    columns = [
        column_drift_from_profiles(reference_profile[name], current[name], config=config)
        for name in kinds
    ]
    drift = DriftReport(
        columns=tuple(apply_multiple_testing(columns, config)),
        n_reference=reference_profile.n_rows,
        n_current=current.n_rows,
        drift_share_threshold=config.drift_share,
    )
    return ProfiledDrift(
        drift=drift, files=len(files), profiled=cache.profiled, cached=cache.cached
    )
