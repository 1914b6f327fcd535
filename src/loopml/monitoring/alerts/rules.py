"""Alert rules and notification channels, and the YAML file that declares them.

An alerts file::

    channels:                             # "log" is built in and needs no entry
      team-slack:
        type: slack                       # Slack incoming webhook
        url_env: LOOPML_SLACK_WEBHOOK_URL # read from the environment (keeps the secret out)
      ops:
        type: webhook                     # generic JSON POST
        url: https://alerts.example.com/loopml
        headers: {Authorization: "Bearer ..."}
        timeout_seconds: 5                # per attempt (default 5)
        retries: 2                        # extra attempts on 5xx, 429 or network errors (default 2)
        backoff_seconds: 0.5              # wait before retry n: backoff * 2**(n-1) (default 0.5)
    rules:
      - name: drift-share-high            # unique; the cooldown is per (model, rule)
        metric: drift.share_drifted       # path into the monitoring report
        operator: ">="                    # >, >=, <, <= (quote it: a bare > starts a YAML block)
        threshold: 0.3
        severity: warning                 # info | warning | critical (default warning)
        cooldown_seconds: 3600            # default 3600; 0 notifies on every evaluation
        channels: [log, team-slack]       # default [log]
        description: More than 30 % of the features drifted.

Every field of a rule but ``name``, ``metric``, ``operator`` and ``threshold``
has the default shown. Errors are :class:`loopml.errors.ConfigurationError`
naming the file, the field (``rules[1].threshold``) and the rule.
:mod:`loopml.yamlconfig` reports no line numbers, so neither does this module.
"""

from __future__ import annotations

import math
import operator as op
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from loopml.errors import ConfigurationError
from loopml.yamlconfig import read_yaml, reject_unknown

__all__ = [
    "CHANNEL_KINDS",
    "LOG_CHANNEL",
    "OPERATORS",
    "SEVERITIES",
    "AlertConfig",
    "AlertRule",
    "Channel",
]

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": op.gt,
    ">=": op.ge,
    "<": op.lt,
    "<=": op.le,
}
"""Comparison of a rule: the rule fires when ``OPERATORS[operator](value, threshold)``."""

SEVERITIES = ("info", "warning", "critical")
CHANNEL_KINDS = ("log", "webhook", "slack")

_RULE_FIELDS = {
    "name",
    "metric",
    "operator",
    "threshold",
    "severity",
    "cooldown_seconds",
    "channels",
    "description",
}
_CHANNEL_FIELDS = {
    "type",
    "url",
    "url_env",
    "headers",
    "timeout_seconds",
    "retries",
    "backoff_seconds",
}


@dataclass(frozen=True)
class Channel:
    """Where an alert goes: the log, a generic JSON webhook or a Slack incoming webhook.

    Parameters
    ----------
    name : str
        How rules refer to the channel.
    kind : {"log", "webhook", "slack"}
    url : str or None
        ``http(s)://`` address for ``webhook`` and ``slack``; kept out of ``repr``
        (a Slack webhook URL is a secret).
    headers : dict of str to str
        Extra HTTP headers (e.g. ``Authorization``); kept out of ``repr``.
    timeout_seconds : float, default 5.0
        Per attempt and network phase (connect, write, read).
    retries : int, default 2
        Extra attempts after a network error, HTTP 5xx or 429.
    backoff_seconds : float, default 0.5
        Wait before retry ``n``: ``backoff_seconds * 2 ** (n - 1)``.

    Raises
    ------
    loopml.errors.ConfigurationError
        Unknown kind, a missing or non-HTTP URL, negative numbers.
    """

    name: str
    kind: str
    url: str | None = field(default=None, repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    timeout_seconds: float = 5.0
    retries: int = 2
    backoff_seconds: float = 0.5

    def __post_init__(self) -> None:
        where = f"channel {self.name!r}"
        if self.kind not in CHANNEL_KINDS:
            raise ConfigurationError(
                f"{where}: type must be one of {', '.join(CHANNEL_KINDS)}, got {self.kind!r}"
            )
        if self.kind != "log":
            parts = urlsplit(self.url or "")
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigurationError(f"{where}: url must be an http:// or https:// address")
        if not (math.isfinite(self.timeout_seconds) and self.timeout_seconds > 0):
            raise ConfigurationError(f"{where}: timeout_seconds must be a positive number")
        if self.retries < 0 or not (
            math.isfinite(self.backoff_seconds) and self.backoff_seconds >= 0
        ):
            raise ConfigurationError(f"{where}: retries and backoff_seconds must be >= 0")


LOG_CHANNEL = Channel(name="log", kind="log")
"""The built-in channel: one WARNING record on the ``loopml.monitoring.alerts`` logger."""


@dataclass(frozen=True)
class AlertRule:
    """Fire when a monitored value crosses a threshold.

    Parameters
    ----------
    name : str
        Unique within a configuration; deduplication is per (model, rule name).
    metric : str
        Dotted path into the monitoring report's dict (``drift.share_drifted``,
        ``drift.columns.<column>.statistic``, ``performance.roc_auc``,
        ``estimated.roc_auc``, ``quality.<...>``); see
        :mod:`loopml.monitoring.alerts.paths`.
    operator : {">", ">=", "<", "<="}
    threshold : float
        Finite.
    severity : {"info", "warning", "critical"}, default "warning"
    cooldown_seconds : float, default 3600
        After a notification, the same rule stays quiet for this model this long.
    channels : tuple of str, default ("log",)
        Channel names; resolved by :class:`AlertConfig`.
    description : str, default ""
        Human words sent along with the alert.

    Raises
    ------
    loopml.errors.ConfigurationError
        A bad operator, severity, threshold, cooldown, metric path or no channel.
    """

    name: str
    metric: str
    operator: str
    threshold: float
    severity: str = "warning"
    cooldown_seconds: float = 3600.0
    channels: tuple[str, ...] = ("log",)
    description: str = ""

    def __post_init__(self) -> None:
        where = f"alert rule {self.name!r}"
        if not self.name.strip():
            raise ConfigurationError("alert rule name must be a non-empty string")
        if not self.metric or any(not part for part in self.metric.split(".")):
            raise ConfigurationError(
                f"{where}: metric must be a dotted path such as 'drift.share_drifted', "
                f"got {self.metric!r}"
            )
        if self.operator not in OPERATORS:
            raise ConfigurationError(
                f"{where}: operator must be one of {', '.join(map(repr, OPERATORS))} "
                f'(quote it in YAML: operator: ">="), got {self.operator!r}'
            )
        if not math.isfinite(self.threshold):
            raise ConfigurationError(f"{where}: threshold must be finite, got {self.threshold!r}")
        if self.severity not in SEVERITIES:
            raise ConfigurationError(
                f"{where}: severity must be one of {', '.join(SEVERITIES)}, got {self.severity!r}"
            )
        if not (math.isfinite(self.cooldown_seconds) and self.cooldown_seconds >= 0):
            raise ConfigurationError(
                f"{where}: cooldown_seconds must be >= 0, got {self.cooldown_seconds!r}"
            )
        if not self.channels:
            raise ConfigurationError(f"{where}: channels must name at least one channel")

    def crosses(self, value: float) -> bool:
        """Whether ``value`` crosses the threshold; never for NaN or infinity."""
        return math.isfinite(value) and OPERATORS[self.operator](value, self.threshold)


@dataclass(frozen=True)
class AlertConfig:
    """Validated alert rules and the channels they name (always including ``log``).

    Raises
    ------
    loopml.errors.ConfigurationError
        Two rules share a name, or a rule names an undefined channel.
    """

    rules: tuple[AlertRule, ...]
    channels: dict[str, Channel] = field(default_factory=lambda: {"log": LOG_CHANNEL})

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ConfigurationError(f"alert rule name {rule.name!r} is used twice")
            seen.add(rule.name)
            unknown = [c for c in rule.channels if c not in self.channels]
            if unknown:
                raise ConfigurationError(
                    f"alert rule {rule.name!r} names undefined channel(s) {', '.join(unknown)} "
                    f"(defined: {', '.join(sorted(self.channels))})"
                )

    def channels_of(self, rule: AlertRule) -> list[Channel]:
        """The channels ``rule`` notifies, in its order."""
        return [self.channels[name] for name in rule.channels]

    @classmethod
    def from_yaml(
        cls, path: str | Path, *, environ: Mapping[str, str] | None = None
    ) -> AlertConfig:
        """Read and validate an alerts file (format in the module docstring).

        Parameters
        ----------
        path : str or Path
        environ : mapping, optional
            Where ``url_env`` is looked up; default ``os.environ``.
        """
        path = Path(path)
        return cls.from_dict(read_yaml(path, "alerts file"), environ=environ, source=str(path))

    @classmethod
    def from_dict(
        cls, data: Any, *, environ: Mapping[str, str] | None = None, source: str = "alerts"
    ) -> AlertConfig:
        """Validate an alerts configuration given as a mapping; ``source`` names it in errors."""
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"{source} must be a mapping with a 'rules' list")
        reject_unknown(data, {"rules", "channels"}, source)
        env = os.environ if environ is None else environ
        channels = {"log": LOG_CHANNEL}
        raw_channels = data.get("channels") or {}
        if not isinstance(raw_channels, Mapping):
            raise _bad(source, "channels", "must be a mapping of name -> channel", raw_channels)
        for name, raw in raw_channels.items():
            if not isinstance(name, str) or name == "log":
                raise ConfigurationError(
                    f"{source}: channel name {name!r} is not allowed ('log' is built in)"
                )
            with _prefixed(source):
                channels[name] = _channel(name, raw, source, env)
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            raise _bad(source, "rules", "must be a non-empty list of rules", raw_rules)
        rules = []
        for i, raw in enumerate(raw_rules):
            with _prefixed(source, f"rules[{i}]"):
                rules.append(_rule(raw, f"rules[{i}]", source))
        with _prefixed(source):
            return cls(rules=tuple(rules), channels=channels)


@contextmanager
def _prefixed(source: str, where: str = "") -> Iterator[None]:
    """Prefix a constructor's error (which names the rule or channel) with file and field."""
    try:
        yield
    except ConfigurationError as exc:
        if source in str(exc):
            raise
        raise ConfigurationError(f"{source}: {where + ': ' if where else ''}{exc}") from exc


def _bad(source: str, name: str, what: str, value: Any) -> ConfigurationError:
    return ConfigurationError(f"{source}: field '{name}' {what}, got {value!r}")


def _rule(raw: Any, where: str, source: str) -> AlertRule:
    if not isinstance(raw, Mapping):
        raise _bad(source, where, "must be a mapping", raw)
    named = isinstance(raw.get("name"), str)
    label = f" (rule {raw['name']!r})" if named else ""
    reject_unknown(raw, _RULE_FIELDS, f"{source} {where}{label}")
    prefix = f"{source}: rule {raw['name']!r}" if named else source
    channels = raw.get("channels", ["log"])
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise _bad(prefix, f"{where}.channels", "must be a list of channel names", channels)
    return AlertRule(
        name=_text(raw, "name", where, prefix, required=True),
        metric=_text(raw, "metric", where, prefix, required=True),
        operator=_text(raw, "operator", where, prefix, required=True),
        threshold=_number(raw, "threshold", where, prefix),
        severity=_text(raw, "severity", where, prefix) or "warning",
        cooldown_seconds=_number(raw, "cooldown_seconds", where, prefix, default=3600.0),
        channels=tuple(channels),
        description=_text(raw, "description", where, prefix),
    )


def _channel(name: str, raw: Any, source: str, env: Mapping[str, str]) -> Channel:
    where = f"channels.{name}"
    if not isinstance(raw, Mapping):
        raise _bad(source, where, "must be a mapping with 'type' and 'url' or 'url_env'", raw)
    reject_unknown(raw, _CHANNEL_FIELDS, f"{source} {where}")
    url = _text(raw, "url", where, source)
    variable = _text(raw, "url_env", where, source)
    if url and variable:
        raise ConfigurationError(f"{source}: {where}: give url or url_env, not both")
    if variable:
        url = env.get(variable, "")
        if not url:
            raise ConfigurationError(
                f"{source}: {where}: environment variable {variable} (url_env) is not set"
            )
    headers = raw.get("headers") or {}
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise _bad(source, f"{where}.headers", "must map header names to strings", "<hidden>")
    retries = raw.get("retries", 2)
    if isinstance(retries, bool) or not isinstance(retries, int):
        raise _bad(source, f"{where}.retries", "must be an integer", retries)
    return Channel(
        name=name,
        kind=_text(raw, "type", where, source, required=True),
        url=url or None,
        headers=dict(headers),
        timeout_seconds=_number(raw, "timeout_seconds", where, source, default=5.0),
        retries=retries,
        backoff_seconds=_number(raw, "backoff_seconds", where, source, default=0.5),
    )


def _text(
    raw: Mapping[str, Any], key: str, where: str, source: str, *, required: bool = False
) -> str:
    value = raw.get(key)
    if value is None:
        if required:
            raise ConfigurationError(f"{source}: field '{where}.{key}' is required")
        return ""
    if not isinstance(value, str):
        raise _bad(source, f"{where}.{key}", "must be a string", value)
    return value


def _number(
    raw: Mapping[str, Any], key: str, where: str, source: str, *, default: float | None = None
) -> float:
    value = raw.get(key, default)
    if value is None:
        raise ConfigurationError(f"{source}: field '{where}.{key}' is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(source, f"{where}.{key}", "must be a finite number", value)
    return float(value)
