"""Reading the YAML files users write (policies, deployments): one set of error messages.

Both helpers raise :class:`loopml.errors.ConfigurationError` with the file or
field named, so every YAML-configured object reports mistakes the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from loopml.errors import ConfigurationError

__all__ = ["read_yaml", "reject_unknown"]


def read_yaml(path: Path, what: str) -> Any:
    """Parse ``path`` with ``yaml.safe_load``; ``what`` names the kind of file in errors.

    Raises
    ------
    loopml.errors.ConfigurationError
        ``cannot read <what> <path>: ...`` or ``<what> <path> is not valid YAML: ...``.
    """
    try:
        return yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigurationError(f"cannot read {what} {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{what} {path} is not valid YAML: {exc}") from exc


def reject_unknown(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """Refuse keys of ``data`` outside ``allowed`` (typos such as ``drfit_share``), naming them.

    Raises
    ------
    loopml.errors.ConfigurationError
        ``unknown field(s) in <where>: ... (allowed: ...)``.
    """
    unknown = sorted(set(map(str, data)) - allowed)
    if unknown:
        raise ConfigurationError(
            f"unknown field(s) in {where}: {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
