"""Checks of a rerun against what its run recorded: values, model packages, skops files.

:class:`Check` is one comparison, :class:`Reproduction` the outcome of
:func:`loopml.pipeline.reproduce.reproduce_run`. :func:`compare_packages`
compares two model package folders file by file; :func:`skops_digest` hashes
a skops file's content without the object ids and zip timestamps that make two
saves of the same model differ byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopml.errors import DataError

__all__ = ["Check", "Reproduction", "compare_packages", "skops_digest"]


@dataclass(frozen=True)
class Check:
    """One recorded value beside its reproduction.

    Attributes
    ----------
    kind : str
        ``metric``, ``dataset``, ``artifact``, ``step`` (cache key) or ``seed``.
    name : str
        What was compared: ``roc_auc``, ``split.train``, ``model.skops`` ...
    recorded, reproduced : str, float or None
        The two values (``None`` when one side has none).
    matches : bool
        Whether they agree (metrics: within the tolerance).
    note : str
        How it was compared, or why it differs.
    """

    kind: str
    name: str
    recorded: str | float | None
    reproduced: str | float | None
    matches: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (non-finite numbers as ``None``)."""
        def clean(value: str | float | None) -> str | float | None:
            return None if isinstance(value, float) and not math.isfinite(value) else value

        return {
            "kind": self.kind, "name": self.name, "recorded": clean(self.recorded),
            "reproduced": clean(self.reproduced), "matches": self.matches, "note": self.note,
        }


@dataclass(frozen=True)
class Reproduction:
    """Outcome of :func:`reproduce_run`.

    Attributes
    ----------
    run_id : str
        The run reproduced.
    pipeline : str
        Its pipeline name.
    model_version : str or None
        ``<name>/<version>`` whose package the rerun was compared with.
    checks : tuple of Check
        Every comparison, in the order the steps ran.
    code : dict
        ``recorded_commit``, ``current_commit``, ``python`` (recorded, now) and
        ``packages`` (name -> [recorded, now]) that differ.
    notes : tuple of str
        Steps not replayed, inputs taken from the cache, comparisons skipped.
    seconds : float
        Wall time of the rerun.
    """

    run_id: str
    pipeline: str
    model_version: str | None
    checks: tuple[Check, ...]
    code: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    seconds: float = 0.0

    def _all(self, *kinds: str) -> bool:
        return all(c.matches for c in self.checks if c.kind in kinds)

    @property
    def metrics_match(self) -> bool:
        """Every evaluation metric within the tolerance."""
        return self._all("metric")

    @property
    def artifacts_match(self) -> bool:
        """Every dataset fingerprint and package file the same."""
        return self._all("dataset", "artifact")

    @property
    def matches(self) -> bool:
        """Metrics, datasets and artifacts all the same (step keys and seeds are informative)."""
        return self.metrics_match and self.artifacts_match

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "model_version": self.model_version,
            "reproduced": self.matches,
            "metrics_match": self.metrics_match,
            "artifacts_match": self.artifacts_match,
            "checks": [c.to_dict() for c in self.checks],
            "code": self.code,
            "notes": list(self.notes),
            "seconds": round(self.seconds, 3),
        }


def skops_digest(path: str | Path) -> str:
    """SHA-256 of a skops model file's content, independent of object ids and zip metadata.

    skops names array members after ``id()`` of the arrays and stamps zip
    entries with the time of writing. The digest hashes the canonical JSON
    of ``schema.json`` with every ``__id__`` replaced by its order of first
    appearance and every member file name replaced by the SHA-256 of the
    member's bytes.

    Raises
    ------
    DataError
        If ``path`` is not a skops zip file with a ``schema.json``.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
            members = {
                name: hashlib.sha256(archive.read(name)).hexdigest()
                for name in archive.namelist()
                if name != "schema.json"
            }
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise DataError(f"{str(path)!r} is not a readable skops file: {exc}") from exc
    ids: dict[int, int] = {}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key == "__id__" and isinstance(value, int):
                    out[key] = ids.setdefault(value, len(ids))
                elif key == "file" and isinstance(value, str) and value in members:
                    out[key] = members[value]
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    text = json.dumps(walk(schema), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_digest(folder: Path, relative: str) -> str | None:
    from loopml.models.hashing import sha256_file

    path = folder / relative
    if not path.is_file():
        return None
    return skops_digest(path) if relative.endswith(".skops") else sha256_file(path)


def compare_packages(recorded: Path, rerun: Path) -> list[Check]:
    """Compare the package folders ``recorded`` and ``rerun`` file by file.

    Every file either manifest lists is hashed on both sides (``model.skops``
    by :func:`skops_digest`, others by SHA-256 of the bytes); the manifests'
    schema, task and metrics are compared too (their creation times always
    differ). Returns one ``artifact`` :class:`Check` per file and field.
    """
    from loopml.models import MANIFEST_NAME, Manifest

    checks: list[Check] = []
    old = Manifest.from_json((recorded / MANIFEST_NAME).read_bytes())
    new = Manifest.from_json((rerun / MANIFEST_NAME).read_bytes())
    for relative in sorted(set(old.files) | set(new.files)):
        a, b = _file_digest(recorded, relative), _file_digest(rerun, relative)
        how = "skops content digest (object ids, zip times normalised)" if relative.endswith(
            ".skops") else "SHA-256 of the bytes"
        note = how if a is not None and b is not None else "present on one side only"
        checks.append(Check("artifact", relative, a, b, a is not None and a == b, note))
    for what in ("schema", "task", "metrics"):
        left = json.dumps(getattr(old, what) if what != "schema" else old.schema.to_dict(),
                          sort_keys=True, default=str)
        right = json.dumps(getattr(new, what) if what != "schema" else new.schema.to_dict(),
                           sort_keys=True, default=str)
        checks.append(Check(
            "artifact", f"{MANIFEST_NAME}:{what}",
            hashlib.sha256(left.encode()).hexdigest(), hashlib.sha256(right.encode()).hexdigest(),
            left == right, f"the manifest's {what} (its creation time always differs)",
        ))
    return checks
