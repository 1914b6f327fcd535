"""Which types a skops file may contain before loopml loads it without ``trust``."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ALLOWED_MODULES",
    "ALLOWED_TYPES",
    "DENIED_PREFIXES",
    "UNSAFE_SUFFIXES",
    "disallowed_types",
    "is_allowed_type",
]

ALLOWED_MODULES = frozenset({"sklearn", "numpy", "scipy"})
"""Top-level packages whose classes and functions are trusted in a skops file."""

ALLOWED_TYPES = frozenset({"collections.OrderedDict", "functools.partial"})
"""Individual types outside :data:`ALLOWED_MODULES`: plain containers, and
``functools.partial``, which scikit-learn stores inside estimators (e.g.
``HistGradientBoostingClassifier`` with categorical features keeps
``partial(check_array, ...)``). skops reports the wrapped function as a type of
its own, so what a partial calls is still checked against this allow-list."""

DENIED_PREFIXES = (
    "numpy.ctypeslib",
    "numpy.distutils",
    "numpy.f2py",
    "numpy.testing",
    "numpy.lib.format",
    "numpy.lib.npyio",
    "numpy.lib._npyio_impl",
    "numpy.load",
    "numpy.fromfile",
    "numpy.memmap",
    "sklearn.datasets",
    "sklearn.externals",
    "sklearn.utils._testing",
)
"""Parts of the allowed packages that read or write files, download data, run
compilers or load foreign code: refused even though their package is allowed."""

UNSAFE_SUFFIXES = (".pkl", ".pickle", ".joblib")
"""File endings of formats that run arbitrary code when loaded."""


def is_allowed_type(name: str) -> bool:
    """Whether a fully qualified type or function name from a skops file is trusted.

    Parameters
    ----------
    name : str
        As reported by :func:`skops.io.get_untrusted_types`, e.g.
        ``"sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"``.

    Returns
    -------
    bool
        True when the name is in :data:`ALLOWED_TYPES`, or its top-level
        package is in :data:`ALLOWED_MODULES` and it does not start with one
        of :data:`DENIED_PREFIXES`. ``numpyx.Thing`` is not ``numpy``: the
        package is compared as a whole dotted component.
    """
    if name in ALLOWED_TYPES:
        return True
    top = name.split(".", 1)[0]
    if top not in ALLOWED_MODULES:
        return False
    return not any(name == p or name.startswith(p + ".") for p in DENIED_PREFIXES)


def disallowed_types(names: Iterable[str]) -> list[str]:
    """Return the names that :func:`is_allowed_type` refuses, sorted and unique."""
    return sorted({name for name in names if not is_allowed_type(name)})
