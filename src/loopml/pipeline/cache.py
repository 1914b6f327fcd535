"""The step cache: outputs stored by a key that hashes code, params and inputs.

A step's cache key is the SHA-256 of the canonical JSON of::

    {"kind": ..., "code": <source of the kind's function>, "params": ...,
     "inputs": [<cache keys of the input steps>], "identity": <source hash ...>}

so it changes when the step's code, its params, anything upstream, or an
external source (a file's bytes, an input frame's fingerprint) changes.

Outputs are written under ``cache/<key>/`` in the artifact store (DataFrames
as Parquet, schemas and small dicts as JSON, models as model packages via
:func:`loopml.models.save_model`) and then indexed with
:meth:`CacheStore.put_cache_entry`, so an index entry always points at
complete files.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.errors import NotFoundError
from loopml.pipeline.steps import TrainedModel
from loopml.schema import Schema

__all__ = ["StepCache", "cache_key", "canonical_json"]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace; the bytes a cache key hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def cache_key(
    kind: str,
    code: Callable[..., Any],
    params: Mapping[str, Any],
    inputs: Sequence[str],
    identity: str = "",
) -> str:
    """SHA-256 (hex) of the step kind, its code, params, input keys and identity.

    Examples
    --------
    >>> a = cache_key("split", canonical_json, {"test_size": 0.2}, ["k1"])
    >>> a == cache_key("split", canonical_json, {"test_size": 0.2}, ["k1"])
    True
    >>> a == cache_key("split", canonical_json, {"test_size": 0.3}, ["k1"])
    False
    """
    payload = {
        "kind": kind,
        "code": inspect.getsource(code),
        "params": params,
        "inputs": list(inputs),
        "identity": identity,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


class StepCache:
    """Read and write cached step outputs.

    Parameters
    ----------
    store : CacheStore
        The cache index (part of the metadata store).
    artifacts : ArtifactStore
        Where the output files live (``cache/<key>/``).
    """

    def __init__(self, store: Any, artifacts: Any) -> None:
        self.store = store
        self.artifacts = artifacts

    def get(self, key: str) -> dict[str, Any] | None:
        """The outputs cached under ``key``, or ``None`` (unknown key or files gone)."""
        entry = self.store.get_cache_entry(key)
        if entry is None:
            return None
        try:
            folder = self.artifacts.get_dir(entry["uri"])
        except NotFoundError:
            return None
        outputs: dict[str, Any] = {}
        for name, kind in entry["outputs"].items():
            outputs[name] = _read(folder, name, kind)
        return outputs

    def put(self, key: str, *, step: str, outputs: Mapping[str, Any]) -> None:
        """Write ``outputs`` under ``cache/<key>/`` and index them; idempotent."""
        kinds: dict[str, str] = {}
        with tempfile.TemporaryDirectory(prefix="loopml-cache-") as tmp:
            folder = Path(tmp)
            for name, value in outputs.items():
                kinds[name] = _write(folder, name, value)
            uri = self.artifacts.put_dir(folder, f"cache/{key}")
        self.store.put_cache_entry(key, step=step, value={"uri": uri, "outputs": kinds})


def _write(folder: Path, name: str, value: Any) -> str:
    if isinstance(value, pd.DataFrame):
        value.to_parquet(folder / f"{name}.parquet", index=False)
        return "frame"
    if isinstance(value, Schema):
        (folder / f"{name}.schema.json").write_text(value.to_json(), encoding="utf-8")
        return "schema"
    if isinstance(value, TrainedModel):
        from loopml.models import save_model

        save_model(value.fitted(), folder / name, schema=value.schema, metrics={})
        meta = {"features": list(value.features), "label": value.label}
        (folder / f"{name}.model.json").write_text(canonical_json(meta), encoding="utf-8")
        return "model"
    (folder / f"{name}.json").write_text(canonical_json(value), encoding="utf-8")
    return "json"


def _read(folder: Path, name: str, kind: str) -> Any:
    if kind == "frame":
        return pd.read_parquet(folder / f"{name}.parquet")
    if kind == "schema":
        return Schema.from_json((folder / f"{name}.schema.json").read_text(encoding="utf-8"))
    if kind == "model":
        from loopml.models import load_model

        loaded = load_model(folder / name)
        meta = json.loads((folder / f"{name}.model.json").read_text(encoding="utf-8"))
        return TrainedModel(loaded, loaded.schema, tuple(meta["features"]), meta["label"])
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
