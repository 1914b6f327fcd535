"""loopml: one closed loop for tabular models, self-hosted.

validate data against a contract -> train in cached pipelines -> track runs ->
register versions -> serve over REST -> log predictions and ground truth ->
detect drift -> retrain -> judge challenger against champion -> promote.

Public API
----------
connect(settings=None) -> Client
    Open a loopml home (``LOOPML_*`` environment variables by default).
start_run(experiment, run_name=None, tags=None) -> ActiveRun
    Track a run in the default home.
Settings
    Where state lives (store URL, artifact root, prediction log).
infer_schema(frame) -> Schema, validate(frame, schema) -> list[Violation]
    The data contract.

Names are imported on first use, so ``import loopml.store`` (or any other
sub-package) does not pay for the whole API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopml.api import Client, connect, start_run
    from loopml.schema import infer_schema, validate
    from loopml.settings import Settings

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Settings",
    "__version__",
    "connect",
    "infer_schema",
    "start_run",
    "validate",
]

_LAZY = {
    "Client": "loopml.api",
    "connect": "loopml.api",
    "start_run": "loopml.api",
    "Settings": "loopml.settings",
    "infer_schema": "loopml.schema",
    "validate": "loopml.schema",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'loopml' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
