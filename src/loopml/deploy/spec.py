"""Deployment spec: which aliases serve an endpoint, and how traffic is split.

A deployment is a YAML file (or :meth:`DeploymentSpec.from_dict`)::

    name: flights-prod          # the endpoint's name
    model: flights              # registered model
    champion: champion          # alias that answers by default
    canary:                     # optional: a share of requests answered by another alias
      alias: challenger
      weight: 10                # percent of requests, chosen by request id (deterministic)
    shadow:                     # optional: gets a copy of every request, is logged, never answers
      alias: candidate

The split is by request id (:func:`loopml.deploy.route_for`), so a client that
retries with the same id always reaches the same version. Errors name the
offending field (:class:`loopml.errors.ConfigurationError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopml.errors import ConfigurationError
from loopml.yamlconfig import read_yaml, reject_unknown

__all__ = ["CanarySpec", "DeploymentSpec", "ShadowSpec"]


@dataclass(frozen=True)
class CanarySpec:
    """``weight`` percent (0 < weight < 100) of requests go to ``alias``."""

    alias: str
    weight: float


@dataclass(frozen=True)
class ShadowSpec:
    """Every request is also scored by ``alias``; logged with route ``shadow``, never answered."""

    alias: str


@dataclass(frozen=True)
class DeploymentSpec:
    """An endpoint: a champion alias plus an optional canary and an optional shadow."""

    name: str
    model: str
    champion: str = "champion"
    canary: CanarySpec | None = None
    shadow: ShadowSpec | None = None

    @property
    def aliases(self) -> dict[str, str]:
        """Route name -> alias for every route in use (``champion``, ``canary``, ``shadow``)."""
        routes = {"champion": self.champion}
        if self.canary is not None:
            routes["canary"] = self.canary.alias
        if self.shadow is not None:
            routes["shadow"] = self.shadow.alias
        return routes

    @classmethod
    def from_yaml(cls, path: str | Path) -> DeploymentSpec:
        """Read and validate a deployment file.

        Raises
        ------
        loopml.errors.ConfigurationError
            The file is unreadable, not YAML, or a field is invalid (named).
        """
        return cls.from_dict(read_yaml(Path(path), "deployment"))

    @classmethod
    def from_dict(cls, data: Any) -> DeploymentSpec:
        """Validate a deployment given as a mapping (see the module docstring)."""
        if not isinstance(data, Mapping):
            raise ConfigurationError("deployment must be a mapping with 'name' and 'model'")
        reject_unknown(data, {"name", "model", "champion", "canary", "shadow"}, "deployment")
        name = _text(data, "name", "name")
        model = _text(data, "model", "model")
        champion = _text(data, "champion", "champion") if "champion" in data else "champion"
        canary = None
        if data.get("canary") is not None:
            raw = _mapping(data["canary"], "canary")
            reject_unknown(raw, {"alias", "weight"}, "canary")
            weight = raw.get("weight")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not (
                0 < weight < 100
            ):
                raise ConfigurationError(
                    f"deployment field 'canary.weight' must be a percentage between 0 and 100 "
                    f"(exclusive), got {weight!r}"
                )
            canary = CanarySpec(alias=_text(raw, "alias", "canary.alias"), weight=float(weight))
        shadow = None
        if data.get("shadow") is not None:
            raw = _mapping(data["shadow"], "shadow")
            reject_unknown(raw, {"alias"}, "shadow")
            shadow = ShadowSpec(alias=_text(raw, "alias", "shadow.alias"))
        spec = cls(name=name, model=model, champion=champion, canary=canary, shadow=shadow)
        aliases = list(spec.aliases.values())
        if len(set(aliases)) != len(aliases):
            raise ConfigurationError(
                f"deployment {name!r}: champion, canary and shadow must be different aliases, "
                f"got {spec.aliases}"
            )
        return spec

    def to_dict(self) -> dict[str, Any]:
        """The YAML/JSON form; ``from_dict(spec.to_dict()) == spec``."""
        data: dict[str, Any] = {"name": self.name, "model": self.model, "champion": self.champion}
        if self.canary is not None:
            data["canary"] = {"alias": self.canary.alias, "weight": self.canary.weight}
        if self.shadow is not None:
            data["shadow"] = {"alias": self.shadow.alias}
        return data


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"deployment field {field!r} must be a mapping, got {value!r}")
    return value


def _text(data: Mapping[str, Any], key: str, field: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"deployment field {field!r} must be a non-empty string, got {value!r}")
    return value
