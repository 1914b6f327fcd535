"""loopml.store's table of contents is pinned, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import loopml.store


def test_exported_names() -> None:
    assert sorted(loopml.store.__all__) == [
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
    for name in loopml.store.__all__:
        assert getattr(loopml.store, name) is not None


def test_import_store_does_not_load_sqlalchemy() -> None:
    src = Path(__file__).resolve().parents[2] / "src"
    code = (
        "import sys, importlib; sys.path.insert(0, sys.argv[1]);"
        "importlib.import_module('loopml.store.memory');"
        "print('sqlalchemy' in sys.modules, 'alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(src)], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "False"  # alembic is only imported to migrate
