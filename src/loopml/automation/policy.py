"""Loop policy: when to retrain, on which window, how to judge, canary, roll back, approve.

A policy is a YAML file; every field but ``model`` and ``pipeline`` is
optional and has the default shown (sections shown commented out are off
unless given)::

    model: flights                      # registered model the loop looks after
    champion_alias: champion            # alias served to users
    challenger_alias: challenger        # alias given to a freshly trained version
    pipeline: flights_pipeline.yaml     # retraining pipeline, relative to this file
    pipeline_input: train               # the pipeline's ``load`` step reads input:<this>
    label: delayed                      # column of the ground truth in feedback
    triggers:                           # retrain when any fires (null switches one off)
      min_labelled_rows: 500            # least labelled rows to retrain on, and the evidence
                                        #   of performance_drop, schedule, new_labelled_rows
      min_rows: 500                     # evidence (logged rows) of the drift and CBPE triggers
      drift_share: null                 # share of drifted feature columns (off by default:
                                        #   seasonal drift fires every month, see
                                        #   docs/loop-outcome.md; the quickstart sets 0.3)
      performance_drop: 0.03            # realised metric this far below the champion's at
                                        #   registration
      # estimated_performance_drop: 0.03  CBPE-estimated ROC AUC this far below it
      # column_drift: {distance: 0.2}     a column's drift statistic at or above this
      # schedule: "0 3 * * 1"             cron: retrain when a fire time passed since the
      #                                   last retrain (or since the champion was registered)
      # new_labelled_rows: 5000           labelled rows logged since the last retraining window
    window:
      max_rows: 20000                   # newest labelled rows to retrain and judge on
      # max_age_days: 30                  ... logged within this many days
    challenger:
      metric: roc_auc                   # roc_auc | accuracy | f1 | neg_log_loss
      margin: 0.005                     # must beat the champion by more than this ...
      alpha: 0.05                       # ... with a paired bootstrap p-value <= alpha
      resamples: 2000                   # bootstrap replicates (seeded: reproducible)
      seed: 0
      holdout_fraction: 0.3             # newest share of the window: judged on, never trained on
    # canary:                           # serve the challenger to a share of traffic first
    #   alias: canary                   # the alias the deployment's canary route follows
    #   weight: 10                      # percent of requests (the deployment file's weight)
    #   min_requests: 500               # canary predictions before judging
    #   min_labelled_rows: 100          # canary rows with feedback before judging the metric
    #   max_metric_drop: 0.02           # canary metric may trail the champion's by this much
    #   max_error_rate: 0.01            # 5xx share (needs serving.metrics_url)
    #   max_latency_p99_ms: 250         # canary p99 latency
    #   max_hours: 48                   # withdraw when still undecided after this
    # rollback:                         # after the champion changed, for within_hours
    #   metric_drop: 0.05               # realised metric this far below the previous champion's
    #   min_labelled_rows: 300
    #   max_error_rate: 0.05            # needs serving.metrics_url
    #   max_latency_p99_ms: 500
    #   within_hours: 24
    # approval:                         # a person approves each promotion
    #   timeout_hours: 24               # then the challenger is withdrawn
    #   approvers: [alice, bob]         # who may (default: anyone with access to the store)
    # serving:
    #   metrics_url: http://127.0.0.1:8000/metrics   # the server's Prometheus endpoint

A trigger's threshold may also be written ``{threshold: 0.3, min_rows: 2000}``
to give that trigger its own minimum evidence. Errors name the offending field
(:class:`loopml.errors.ConfigurationError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopml.automation.gate import GATE_METRICS
from loopml.errors import ConfigurationError
from loopml.yamlconfig import read_yaml, reject_unknown

__all__ = ["ApprovalRule", "CanaryStage", "ChallengerRule", "Policy", "RollbackRule", "Triggers"]

_LOGGED = ("drift_share", "estimated_performance_drop", "column_drift")
"""Triggers whose evidence is logged rows (``min_rows``); the others count labelled rows."""


@dataclass(frozen=True)
class Triggers:
    """When to retrain. ``None`` (or an empty mapping) disables a trigger.

    Parameters
    ----------
    drift_share : float or None
        Share of drifted feature columns (0..1). Off by default: on the flights
        and rainfall replays (bench/loop_outcome.py) seasonal drift fired it in
        every window, retraining as often as the retrain-every-window oracle for
        no gain over the performance trigger; data drift is for monitoring and
        alerts, and the quickstart's policy sets 0.3 to show the path.
    performance_drop : float or None
        Realised metric on the champion's labelled rows this much below its
        metric at registration (absolute metric units).
    min_labelled_rows : int
        Least labelled rows to retrain on; evidence of the labelled triggers.
    min_rows : int
        Evidence (logged rows in the window) of drift and CBPE triggers.
    estimated_performance_drop : float or None
        CBPE-estimated ROC AUC this much below the metric at registration.
    column_drift : dict of str to float
        Column -> its drift test's statistic at or above which to retrain.
    schedule : str or None
        Cron expression (5 fields, UTC).
    new_labelled_rows : int or None
        Labelled rows logged after the newest row of the last retraining window.
    evidence : dict of str to int
        Per-trigger minimum evidence overriding the defaults above (key: the
        trigger name, ``column_drift:<column>`` for a column).
    """

    drift_share: float | None = None
    performance_drop: float | None = 0.03
    min_labelled_rows: int = 500
    min_rows: int = 500
    estimated_performance_drop: float | None = None
    column_drift: Mapping[str, float] = field(default_factory=dict)
    schedule: str | None = None
    new_labelled_rows: int | None = None
    evidence: Mapping[str, int] = field(default_factory=dict)

    def min_evidence(self, trigger: str) -> int:
        """Minimum evidence of ``trigger`` (rows; logged or labelled by kind)."""
        if trigger in self.evidence:
            return self.evidence[trigger]
        logged = trigger.split(":", 1)[0] in _LOGGED
        return self.min_rows if logged else self.min_labelled_rows


@dataclass(frozen=True)
class ChallengerRule:
    """How a challenger is judged against the champion on the same holdout rows
    (:func:`loopml.automation.gate.paired_bootstrap`)."""

    metric: str = "roc_auc"
    margin: float = 0.005
    holdout_fraction: float = 0.3
    alpha: float = 0.05
    resamples: int = 2000
    seed: int = 0


@dataclass(frozen=True)
class CanaryStage:
    """The challenger answers ``weight`` percent of requests through ``alias`` before promotion."""

    alias: str = "canary"
    weight: float = 10.0
    min_requests: int = 500
    min_labelled_rows: int = 100
    max_metric_drop: float | None = 0.02
    max_error_rate: float | None = None
    max_latency_p99_ms: float | None = None
    max_hours: float = 48.0


@dataclass(frozen=True)
class RollbackRule:
    """When a new champion is moved back to the previous one, within ``within_hours``."""

    metric_drop: float | None = 0.05
    min_labelled_rows: int = 300
    max_error_rate: float | None = None
    max_latency_p99_ms: float | None = None
    within_hours: float = 24.0


@dataclass(frozen=True)
class ApprovalRule:
    """Promotion waits for ``loopml approve``; withdrawn after ``timeout_hours``."""

    timeout_hours: float = 24.0
    approvers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    """A validated loop policy (see the module docstring for the YAML)."""

    model: str
    pipeline: Path
    champion_alias: str = "champion"
    challenger_alias: str = "challenger"
    pipeline_input: str = "train"
    label: str = "delayed"
    triggers: Triggers = field(default_factory=Triggers)
    max_rows: int = 20_000
    challenger: ChallengerRule = field(default_factory=ChallengerRule)
    max_age_days: float | None = None
    canary: CanaryStage | None = None
    rollback: RollbackRule | None = None
    approval: ApprovalRule | None = None
    metrics_url: str | None = None

    @classmethod
    def from_yaml(cls, path: str | Path) -> Policy:
        """Read and validate a policy file.

        Raises
        ------
        loopml.errors.ConfigurationError
            The file is missing, not YAML, or a field is invalid (named).
        """
        path = Path(path)
        return cls.from_dict(read_yaml(path, "policy"), base_dir=path.parent)

    @classmethod
    def from_dict(cls, data: Any, *, base_dir: Path = Path(".")) -> Policy:
        """Validate a policy given as a mapping; relative paths resolve from ``base_dir``."""
        if not isinstance(data, Mapping):
            raise ConfigurationError("policy must be a mapping with at least 'model' and 'pipeline'")
        reject_unknown(data, {"model", "pipeline", "champion_alias", "challenger_alias",
                              "pipeline_input", "label", "triggers", "window", "challenger",
                              "canary", "rollback", "approval", "serving"}, "policy")
        pipeline = Path(_string(data, "pipeline", "pipeline", required=True))
        window = _section(data, "window", {"max_rows", "max_age_days"})
        serving = _section(data, "serving", {"metrics_url"})
        policy = cls(
            model=_string(data, "model", "model", required=True),
            pipeline=pipeline if pipeline.is_absolute() else (base_dir / pipeline).resolve(),
            champion_alias=_string(data, "champion_alias", "champion_alias") or "champion",
            challenger_alias=_string(data, "challenger_alias", "challenger_alias") or "challenger",
            pipeline_input=_string(data, "pipeline_input", "pipeline_input") or "train",
            label=_string(data, "label", "label") or "delayed",
            triggers=_triggers(_section(data, "triggers", set())),
            max_rows=_integer(window, "window.max_rows", 20_000, low=10),
            max_age_days=_number(window, "window.max_age_days", None, low=1e-9),
            challenger=_challenger(_section(data, "challenger", {
                "metric", "margin", "holdout_fraction", "alpha", "resamples", "seed"})),
            canary=_canary(data),
            rollback=_rollback(data),
            approval=_approval(data),
            metrics_url=_string(serving, "metrics_url", "serving.metrics_url") or None,
        )
        return _check_dependencies(policy)


def _check_dependencies(policy: Policy) -> Policy:
    aliases = [policy.champion_alias, policy.challenger_alias]
    if policy.canary is not None:
        aliases.append(policy.canary.alias)
    if len(set(aliases)) != len(aliases):
        raise ConfigurationError(
            f"policy aliases champion_alias, challenger_alias and canary.alias must differ, "
            f"got {aliases}"
        )
    for name, stage in (("canary", policy.canary), ("rollback", policy.rollback)):
        if stage is not None and stage.max_error_rate is not None and policy.metrics_url is None:
            raise ConfigurationError(
                f"policy field '{name}.max_error_rate' needs 'serving.metrics_url' (the server's "
                "/metrics, where errors are counted)"
            )
    return policy


def _triggers(raw: Mapping[str, Any]) -> Triggers:
    reject_unknown(raw, {"drift_share", "performance_drop", "min_labelled_rows", "min_rows",
                         "estimated_performance_drop", "column_drift", "schedule",
                         "new_labelled_rows"}, "triggers")
    evidence: dict[str, int] = {}

    def threshold(key: str, default: float | None, *, fraction: bool = False) -> float | None:
        name = f"triggers.{key}"
        value = raw.get(key, default)
        if isinstance(value, Mapping):
            reject_unknown(value, {"threshold", "min_rows"}, name)
            if "min_rows" in value:
                evidence[key] = _integer(value, f"{name}.min_rows", 1, low=1)
            value = value.get("threshold")
            name += ".threshold"
        return _check_number(value, name, low=0.0, high=1.0 if fraction else None)

    columns: dict[str, float] = {}
    column_drift = raw.get("column_drift") or {}
    if not isinstance(column_drift, Mapping):
        raise ConfigurationError(
            f"policy field 'triggers.column_drift' must map column names to thresholds, "
            f"got {column_drift!r}"
        )
    for column, value in column_drift.items():
        key = f"column_drift:{column}"
        if isinstance(value, Mapping):
            reject_unknown(value, {"threshold", "min_rows"}, f"triggers.column_drift.{column}")
            if "min_rows" in value:
                evidence[key] = _integer(value, f"triggers.column_drift.{column}.min_rows", 1, low=1)
            value = value.get("threshold")
        number = _check_number(value, f"triggers.column_drift.{column}", low=0.0)
        if number is None:
            raise ConfigurationError(f"policy field 'triggers.column_drift.{column}' needs a number")
        columns[str(column)] = number
    schedule = raw.get("schedule")
    if schedule is not None:
        from croniter import croniter

        if not isinstance(schedule, str) or not croniter.is_valid(schedule):
            raise ConfigurationError(
                f"policy field 'triggers.schedule' must be a cron expression such as "
                f"'0 3 * * 1', got {schedule!r}"
            )
    new_rows = raw.get("new_labelled_rows")
    return Triggers(
        drift_share=threshold("drift_share", Triggers.drift_share, fraction=True),
        performance_drop=threshold("performance_drop", Triggers.performance_drop),
        min_labelled_rows=_integer(raw, "triggers.min_labelled_rows", 500, low=1),
        min_rows=_integer(raw, "triggers.min_rows", 500, low=1),
        estimated_performance_drop=threshold("estimated_performance_drop", None),
        column_drift=columns,
        schedule=schedule,
        new_labelled_rows=None if new_rows is None else _integer(
            raw, "triggers.new_labelled_rows", 1, low=1),
        evidence=evidence,
    )


def _challenger(raw: Mapping[str, Any]) -> ChallengerRule:
    metric = raw.get("metric", ChallengerRule.metric)
    if metric not in GATE_METRICS:
        raise ConfigurationError(
            f"challenger.metric must be one of {', '.join(GATE_METRICS)}, got {metric!r}"
        )
    holdout = _number(raw, "challenger.holdout_fraction", ChallengerRule.holdout_fraction, low=0)
    if holdout is None or not 0.05 <= holdout <= 0.95:
        raise ConfigurationError("challenger.holdout_fraction must be between 0.05 and 0.95")
    alpha = _number(raw, "challenger.alpha", ChallengerRule.alpha, low=1e-9)
    if alpha is None or alpha >= 1:
        raise ConfigurationError(f"policy field 'challenger.alpha' must be in (0, 1), got {alpha!r}")
    return ChallengerRule(
        metric=str(metric),
        margin=_number(raw, "challenger.margin", ChallengerRule.margin, low=0.0) or 0.0,
        holdout_fraction=holdout,
        alpha=alpha,
        resamples=_integer(raw, "challenger.resamples", ChallengerRule.resamples, low=100),
        seed=_integer(raw, "challenger.seed", ChallengerRule.seed, low=0),
    )


def _canary(data: Mapping[str, Any]) -> CanaryStage | None:
    if data.get("canary") is None:
        return None
    raw = _section(data, "canary", {"alias", "weight", "min_requests", "min_labelled_rows",
                                    "max_metric_drop", "max_error_rate", "max_latency_p99_ms",
                                    "max_hours"})
    d = CanaryStage()
    weight = _number(raw, "canary.weight", d.weight, low=1e-9)
    if weight is None or weight >= 100:
        raise ConfigurationError(
            f"policy field 'canary.weight' must be a percentage in (0, 100), got {weight!r}"
        )
    return CanaryStage(
        alias=_string(raw, "alias", "canary.alias") or d.alias,
        weight=weight,
        min_requests=_integer(raw, "canary.min_requests", d.min_requests, low=1),
        min_labelled_rows=_integer(raw, "canary.min_labelled_rows", d.min_labelled_rows, low=1),
        max_metric_drop=_number(raw, "canary.max_metric_drop", d.max_metric_drop, low=0.0),
        max_error_rate=_fraction(raw, "canary.max_error_rate", d.max_error_rate),
        max_latency_p99_ms=_number(raw, "canary.max_latency_p99_ms", None, low=1e-9),
        max_hours=_number(raw, "canary.max_hours", d.max_hours, low=1e-9) or d.max_hours,
    )


def _rollback(data: Mapping[str, Any]) -> RollbackRule | None:
    if data.get("rollback") is None:
        return None
    raw = _section(data, "rollback", {"metric_drop", "min_labelled_rows", "max_error_rate",
                                      "max_latency_p99_ms", "within_hours"})
    d = RollbackRule()
    return RollbackRule(
        metric_drop=_number(raw, "rollback.metric_drop", d.metric_drop, low=0.0),
        min_labelled_rows=_integer(raw, "rollback.min_labelled_rows", d.min_labelled_rows, low=1),
        max_error_rate=_fraction(raw, "rollback.max_error_rate", None),
        max_latency_p99_ms=_number(raw, "rollback.max_latency_p99_ms", None, low=1e-9),
        within_hours=_number(raw, "rollback.within_hours", d.within_hours, low=1e-9)
        or d.within_hours,
    )


def _approval(data: Mapping[str, Any]) -> ApprovalRule | None:
    if data.get("approval") is None:
        return None
    raw = _section(data, "approval", {"timeout_hours", "approvers"})
    approvers = raw.get("approvers") or []
    if not isinstance(approvers, list) or not all(isinstance(a, str) and a for a in approvers):
        raise ConfigurationError(
            f"policy field 'approval.approvers' must be a list of names, got {approvers!r}"
        )
    timeout = _number(raw, "approval.timeout_hours", ApprovalRule.timeout_hours, low=1e-9)
    return ApprovalRule(timeout_hours=timeout or ApprovalRule.timeout_hours,
                        approvers=tuple(approvers))


def _section(data: Mapping[str, Any], key: str, allowed: set[str]) -> Mapping[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"policy field {key!r} must be a mapping, got {value!r}")
    if allowed:
        reject_unknown(value, allowed, key)
    return value


def _string(data: Mapping[str, Any], key: str, name: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise ConfigurationError(f"policy field {name!r} is required")
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"policy field {name!r} must be a non-empty string, got {value!r}")
    return value


def _check_number(value: Any, name: str, *, low: float, high: float | None = None) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool) or not isinstance(value, (int, float)) or value < low
        or (high is not None and value > high)
    ):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ConfigurationError(f"policy field {name!r} must be a number {bounds}, got {value!r}")
    return float(value)


def _number(
    data: Mapping[str, Any], name: str, default: float | None, *, low: float
) -> float | None:
    key = name.rsplit(".", 1)[-1]
    return _check_number(data[key], name, low=low) if key in data else default


def _fraction(data: Mapping[str, Any], name: str, default: float | None) -> float | None:
    key = name.rsplit(".", 1)[-1]
    return _check_number(data[key], name, low=0.0, high=1.0) if key in data else default


def _integer(data: Mapping[str, Any], name: str, default: int, *, low: int) -> int:
    key = name.rsplit(".", 1)[-1]
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigurationError(f"policy field {name!r} must be an integer >= {low}, got {value!r}")
    return value
