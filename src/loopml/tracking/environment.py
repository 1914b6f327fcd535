"""Code version and environment of a run: git commit, Python, platform, packages.

Both are captured once when a run starts so that a run can be reproduced from
its record. Neither ever raises: outside a git repository (or without ``git``
installed) the commit is ``None``, and packages that are not installed are
simply left out.
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from importlib import metadata
from typing import Any

__all__ = ["KEY_PACKAGES", "capture_environment", "git_commit"]

KEY_PACKAGES: tuple[str, ...] = (
    "loopml",
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "scikit-learn",
    "skops",
    "xgboost",
    "lightgbm",
    "onnx",
    "onnxruntime",
    "torch",
    "polars",
)
"""Distributions whose versions are recorded with every run (when installed)."""


def git_commit(cwd: str | os.PathLike[str] | None = None) -> str | None:
    """The commit checked out in the git repository containing ``cwd``.

    Parameters
    ----------
    cwd : path-like, optional
        Folder to look from; the current working directory by default.

    Returns
    -------
    str or None
        The 40-character hex SHA of ``HEAD``, or ``None`` when ``cwd`` is not
        inside a repository, the repository has no commit yet, or ``git`` is
        not installed. Never raises.

    Examples
    --------
    >>> git_commit("/") is None
    True
    """
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = completed.stdout.strip()
    if completed.returncode != 0 or len(sha) != 40:
        return None
    return sha


@functools.lru_cache(maxsize=1)
def _package_versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def capture_environment() -> dict[str, Any]:
    """Python version, platform and versions of the key installed packages.

    Package versions come from :mod:`importlib.metadata` and are read once
    per process (installed distributions do not change under a running
    interpreter in any way loopml supports).

    Returns
    -------
    dict
        ``{"python": "3.11.7", "implementation": "CPython", "platform": ...,
        "packages": {"numpy": "2.4.0", ...}}``; JSON-serialisable.

    Examples
    --------
    >>> env = capture_environment()
    >>> sorted(env)
    ['implementation', 'packages', 'platform', 'python']
    """
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": dict(_package_versions()),
    }
