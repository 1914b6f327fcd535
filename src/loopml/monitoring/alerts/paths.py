"""Metric paths: dotted names of the numbers in a monitoring report's dict.

A path walks the dict of :meth:`loopml.monitoring.MonitoringReport.to_dict`
(or any dict of the same style) key by key, separated by dots. A list of
mappings that carry a ``"name"`` is entered by that name, so the drift
statistic of column ``distance`` is ``drift.columns.distance.statistic``.
Names and keys may themselves contain dots (``drift.columns.dep.delay.p_value``
finds column ``dep.delay``): the longest matching key is tried first.

=====================================  ==========================================
path                                   value
=====================================  ==========================================
``drift.share_drifted``                share of tested columns that drifted (0..1)
``drift.dataset_drift``                1.0 when the dataset drifted, else 0.0
``drift.columns.<col>.statistic``      that column's test statistic or distance
``drift.columns.<col>.p_value``        its p-value (tests only)
``drift.columns.<col>.missing_current``  share of missing values now
``performance.roc_auc``                realised ROC AUC (also ``accuracy``, ``f1``,
                                       ``log_loss``, ``brier`` ...)
``estimated.<metric>``                 estimated performance, when the report has it
``quality.<...>``                      data-quality numbers, when the report has them
``current_rows``, ``labelled_rows``    window sizes
=====================================  ==========================================

Booleans read as 1.0/0.0. A path that is absent, null, not a number or not
finite gives a *finding* (a sentence saying why) instead of a value.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MetricLookup", "lookup_metric", "monitored_values"]

_NOT_MONITORED = frozenset({"schema_version", "version"})
"""Top-level numbers that identify the report rather than measure the model."""


@dataclass(frozen=True)
class MetricLookup:
    """The value at a metric path, or why there is none.

    Attributes
    ----------
    path : str
    value : float or None
        Finite float; ``None`` exactly when ``finding`` is set.
    finding : str or None
        Why no value: absent path (with close matches), null section or
        value (with the report's own finding when it has one), not a number,
        not finite.
    """

    path: str
    value: float | None
    finding: str | None = None


def lookup_metric(report: Mapping[str, Any], path: str) -> MetricLookup:
    """Read the number at ``path`` in ``report``.

    Parameters
    ----------
    report : mapping
        A monitoring report as a dict (:meth:`MonitoringReport.to_dict`).
    path : str
        Dotted metric path (table in the module docstring).

    Returns
    -------
    MetricLookup
        Never raises for a missing or odd value; says why in ``finding``.

    Examples
    --------
    >>> report = {"drift": {"share_drifted": 0.4, "columns": [{"name": "a", "statistic": None,
    ...           "finding": "all missing in the current window (10 rows)"}]}}
    >>> lookup_metric(report, "drift.share_drifted").value
    0.4
    >>> lookup_metric(report, "drift.columns.a.statistic").finding
    "'drift.columns.a.statistic' is null: all missing in the current window (10 rows)"
    """
    found = _walk(report, path, "")
    if found is None:
        return MetricLookup(path, None, _absent(report, path))
    value, prefix, parent = found
    if value is None:
        why = parent.get("finding") if isinstance(parent, Mapping) else None
        detail = f": {why}" if isinstance(why, str) and why else ""
        if prefix != path:
            return MetricLookup(path, None, f"{prefix!r} is null in the report{detail}")
        return MetricLookup(path, None, f"{path!r} is null{detail}")
    if isinstance(value, bool):
        return MetricLookup(path, 1.0 if value else 0.0)
    if not isinstance(value, (int, float)):
        kind = type(value).__name__
        return MetricLookup(path, None, f"{path!r} is a {kind}, not a number")
    number = float(value)
    if not math.isfinite(number):
        return MetricLookup(path, None, f"{path!r} is not finite ({number!r})")
    return MetricLookup(path, number)


def monitored_values(report: Any) -> dict[str, float]:
    """Every finite number (and boolean, as 0/1) of ``report`` by metric path.

    ``report`` is a :class:`loopml.monitoring.MonitoringReport` or its
    ``to_dict()``. ``schema_version`` and the model ``version`` are left out;
    lists are entered only when their items are mappings with a ``name``.
    """
    if not isinstance(report, Mapping) and hasattr(report, "to_dict"):
        report = report.to_dict()
    return {
        path: value
        for path, value in _leaves(report, "")
        if path.split(".", 1)[0] not in _NOT_MONITORED
    }


def _walk(node: Any, rest: str, done: str) -> tuple[Any, str, Any] | None:
    """Follow ``rest`` from ``node``: (value, path walked, parent), stopping early at null."""
    if isinstance(node, Mapping):
        children = [(str(key), value) for key, value in node.items()]
    elif isinstance(node, list):
        children = [
            (str(item["name"]), item)
            for item in node
            if isinstance(item, Mapping) and item.get("name") is not None
        ]
    else:
        return None
    for key, child in sorted(children, key=lambda kv: -len(kv[0])):
        here = f"{done}.{key}" if done else key
        if rest == key:
            return child, here, node
        if rest.startswith(key + "."):
            if child is None:
                return None, here, node
            found = _walk(child, rest[len(key) + 1 :], here)
            if found is not None:
                return found
    return None


def _absent(report: Mapping[str, Any], path: str) -> str:
    close = difflib.get_close_matches(path, list(monitored_values(report)), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    root = path.split(".", 1)[0]
    if root not in report:
        sections = ", ".join(sorted(str(k) for k in report))
        return f"{path!r} is not in the report (no {root!r} section; it has {sections}){hint}"
    return f"{path!r} is not in the report{hint}"


def _leaves(node: Any, prefix: str) -> Iterator[tuple[str, float]]:
    if isinstance(node, Mapping):
        items: list[tuple[str, Any]] = [(str(k), v) for k, v in node.items()]
    elif isinstance(node, list):
        items = [
            (str(item["name"]), item)
            for item in node
            if isinstance(item, Mapping) and item.get("name") is not None
        ]
    elif isinstance(node, bool):
        yield prefix, 1.0 if node else 0.0
        return
    elif isinstance(node, (int, float)) and math.isfinite(node):
        yield prefix, float(node)
        return
    else:
        return
    for key, child in items:
        if isinstance(node, Mapping) and key == "name":
            continue
        yield from _leaves(child, f"{prefix}.{key}" if prefix else key)
