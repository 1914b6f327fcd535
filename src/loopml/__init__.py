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
infer_schema, validate
    The data contract.
"""

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
