"""The model server: REST ``/predict``, Open Inference Protocol v2, feedback, hot swap.

========================  ==========================================================
name                      what it is
========================  ==========================================================
:func:`create_app`        FastAPI app serving ``name@ref`` through a ``loopml.api.Client``
:func:`run_server`        run that app under uvicorn (``loopml serve NAME@ALIAS``)
:func:`app_from_env`      uvicorn app factory reading ``LOOPML_*`` environment variables
:class:`ModelHolder`      the served model snapshot and its background hot swap
:class:`ServedModel`      one loaded version, as a request sees it
:class:`StrictJSONResponse`  JSON response without NaN/inf, numpy values converted
:func:`status_for`        the mapping of :mod:`loopml.errors` classes to HTTP status
========================  ==========================================================

Only this package knows HTTP; the domain raises :mod:`loopml.errors`.
"""

from loopml.serving.app import create_app
from loopml.serving.errors import status_for
from loopml.serving.model_holder import ModelHolder, ServedModel
from loopml.serving.server import app_from_env, run_server
from loopml.serving.wire import StrictJSONResponse

__all__ = [
    "ModelHolder",
    "ServedModel",
    "StrictJSONResponse",
    "app_from_env",
    "create_app",
    "run_server",
    "status_for",
]
