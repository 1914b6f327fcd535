"""What a pipeline run records so that it can be rerun: ``pipeline.json`` in the run's artifacts.

:func:`loopml.pipeline.run_pipeline` writes it when the run starts::

    {
      "format": 1,
      "spec": {...},                 # PipelineSpec.to_dict() after param overrides
      "spec_sha256": "<hex>",        # SHA-256 of the spec's canonical JSON
      "spec_path": "/abs/flights_pipeline.yaml" | null,
      "base_dir": "/abs" | null,     # relative file sources resolve against it
      "inputs": {"train": {"fingerprint": "<hex>", "n_rows": 5000, "n_columns": 21}},
      "seeds": {"split.seed": null, "train.random_state": 0}
    }

``inputs`` are the frames passed to the run (``source: input:<name>``): loopml
keeps their fingerprints, not their rows. ``seeds`` are the effective seeds
(the spec's, or the defaults the step code applies): a split's ``seed`` is
``null`` when it splits by time. Together with the run's ``git_commit``,
``environment`` and its ``cache_key.<step>`` tags (which hash each step's
code, params and inputs) this is everything :mod:`loopml.pipeline.reproduce`
needs. Runs recorded before this file existed have none; reproducing them
takes the pipeline file as an argument.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from loopml.errors import NotFoundError
from loopml.pipeline.cache import canonical_json
from loopml.pipeline.spec import PipelineSpec

__all__ = [
    "RECORD_FILE",
    "RECORD_FORMAT",
    "pipeline_record",
    "read_record",
    "spec_seeds",
    "write_record",
]

RECORD_FILE = "pipeline.json"
"""Name of the record among a run's artifacts."""

RECORD_FORMAT = 1
"""Layout version of :data:`RECORD_FILE`."""


def spec_seeds(spec: PipelineSpec) -> dict[str, int | None]:
    """The effective seed of every seeded step of ``spec``.

    ``<split>.seed`` (``None`` when the split is by time, which draws nothing
    at random) and ``<train>.random_state`` (0 unless the estimator params set
    one; :func:`loopml.pipeline.estimators.build_estimator` applies the same
    default).

    Examples
    --------
    >>> spec = PipelineSpec.from_dict({"name": "p", "experiment": "e", "model": "m", "steps": [
    ...     {"name": "load", "kind": "load", "params": {"source": "input:train"}},
    ...     {"name": "split", "kind": "split", "params": {"seed": 3}}]})
    >>> spec_seeds(spec)
    {'split.seed': 3}
    """
    seeds: dict[str, int | None] = {}
    for step in spec.steps:
        if step.kind == "split":
            seeds[f"{step.name}.seed"] = (
                None if step.params.get("by") is not None else int(step.params.get("seed", 0))
            )
        elif step.kind == "train":
            estimator_params = step.params.get("estimator_params") or {}
            seeds[f"{step.name}.random_state"] = estimator_params.get("random_state", 0)
    return seeds


def pipeline_record(spec: PipelineSpec, inputs: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """The record of a run of ``spec`` over the input frames ``inputs`` (JSON-ready).

    Parameters
    ----------
    spec : PipelineSpec
        The spec as run (overrides applied).
    inputs : mapping of str to DataFrame
        Frames passed to the run; each is fingerprinted
        (:func:`loopml.data.fingerprint`, the index is not content).
    """
    from loopml.data import fingerprint

    data = spec.to_dict()
    return {
        "format": RECORD_FORMAT,
        "spec": data,
        "spec_sha256": hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest(),
        "spec_path": None if spec.path is None else str(spec.path),
        "base_dir": None if spec.base_dir is None else str(spec.base_dir),
        "inputs": {
            name: {
                "fingerprint": fingerprint(frame),
                "n_rows": int(frame.shape[0]),
                "n_columns": int(frame.shape[1]),
            }
            for name, frame in sorted(inputs.items())
        },
        "seeds": spec_seeds(spec),
    }


def write_record(run: Any, record: Mapping[str, Any]) -> str:
    """Store ``record`` as :data:`RECORD_FILE` among the artifacts of ``run`` (an ActiveRun).

    Returns
    -------
    str
        URI of the stored file.
    """
    with tempfile.TemporaryDirectory(prefix="loopml-record-") as tmp:
        path = Path(tmp) / RECORD_FILE
        path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return str(run.log_artifact(path))


def read_record(artifacts: Any, artifact_uri: str) -> dict[str, Any] | None:
    """The record kept in the run artifact folder ``artifact_uri``, or ``None`` if it has none.

    Parameters
    ----------
    artifacts : ArtifactStore
        Where the run's artifacts live.
    artifact_uri : str
        :attr:`loopml.entities.Run.artifact_uri`.
    """
    try:
        folder = artifacts.get_dir(artifact_uri)
    except NotFoundError:
        return None
    path = Path(folder) / RECORD_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None
