"""Model packages: a fitted model in a safe format plus a verifiable manifest.

A package is a folder holding ``model.skops`` (scikit-learn estimator or
Pipeline serialised with skops, never pickle) and ``manifest.json``
(:class:`Manifest`: flavor, format, input schema, metrics, exact library
versions, classes, SHA-256 of every file).

* :func:`save_model` -- write a package;
* :func:`load_model` -- verify every hash, refuse pickle/joblib and types
  outside an allow-list unless ``trust=True``, and return a
  :class:`LoadedModel` whose ``predict``/``predict_proba``/``positive_score``
  conform their input to the package's schema.
"""

from loopml.models.loaded import REFERENCE_FILE, LoadedModel
from loopml.models.manifest import MANIFEST_NAME, Manifest
from loopml.models.package import MODEL_FILE, load_model, save_model

__all__ = [
    "MANIFEST_NAME",
    "MODEL_FILE",
    "REFERENCE_FILE",
    "LoadedModel",
    "Manifest",
    "load_model",
    "save_model",
]
