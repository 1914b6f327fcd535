"""Exact versions of the libraries a scikit-learn model package needs."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

__all__ = ["REQUIRED_DISTRIBUTIONS", "current_requirements", "requirement_mismatches"]

REQUIRED_DISTRIBUTIONS = ("scikit-learn", "numpy", "scipy", "skops", "pandas", "loopml")
"""Distributions whose versions a package records, besides ``python``."""

UNKNOWN = "unknown"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        if distribution == "loopml":  # running from a source tree, not installed
            return str(getattr(sys.modules.get("loopml"), "__version__", UNKNOWN))
        return UNKNOWN


def current_requirements() -> dict[str, str]:
    """Return ``{"python": "3.11.7", "scikit-learn": "1.9.1", ...}`` for this process.

    A distribution that is not installed is recorded as ``"unknown"``.
    """
    versions = {"python": platform.python_version()}
    versions.update({name: _version(name) for name in REQUIRED_DISTRIBUTIONS})
    return versions


def requirement_mismatches(saved: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Compare recorded versions with this process.

    Parameters
    ----------
    saved : dict of str to str
        ``Manifest.requirements``.

    Returns
    -------
    dict of str to (str, str)
        ``{name: (saved_version, current_version)}`` for every recorded
        library whose version differs (``python`` compared on major.minor).
    """
    current = current_requirements()
    mismatches: dict[str, tuple[str, str]] = {}
    for name, version in saved.items():
        now = current.get(name)
        if now is None:
            continue
        if name == "python":
            same = version.split(".")[:2] == now.split(".")[:2]
        else:
            same = version == now
        if not same:
            mismatches[name] = (version, now)
    return mismatches
