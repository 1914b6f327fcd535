"""Retraining policy: when to retrain, on which window, how to judge a challenger.

A policy is a YAML file::

    model: flights                      # registered model the loop looks after
    champion_alias: champion            # alias served to users (default champion)
    challenger_alias: challenger        # alias given to a freshly trained version
    pipeline: flights_pipeline.yaml     # retraining pipeline, relative to this file
    pipeline_input: train               # the pipeline's ``load`` step reads input:<this>
    label: delayed                      # column of the ground truth in feedback
    triggers:
      drift_share: 0.3                  # retrain when >= 30 % of columns drifted
      performance_drop: 0.03            # ... or realised metric fell this much below
                                        #     the champion's metric at registration
      min_labelled_rows: 500            # never decide on fewer labelled rows
    window:
      max_rows: 20000                   # most recent labelled rows considered
    challenger:
      metric: roc_auc                   # roc_auc | accuracy | f1 | neg_log_loss
      margin: 0.005                     # challenger must beat champion by this much
      holdout_fraction: 0.3             # newest share of the window kept for judging

Every field but ``model`` and ``pipeline`` has the default shown. Errors name
the offending field (:class:`loopml.errors.ConfigurationError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopml.errors import ConfigurationError
from loopml.yamlconfig import read_yaml, reject_unknown

__all__ = ["ChallengerRule", "Policy", "Triggers"]

_METRICS = ("roc_auc", "accuracy", "f1", "neg_log_loss")


@dataclass(frozen=True)
class Triggers:
    """When to retrain. ``None`` disables a trigger.

    Parameters
    ----------
    drift_share : float or None
        Retrain when the share of drifted columns (0..1) reaches this.
    performance_drop : float or None
        Retrain when the realised metric on the labelled window is at least this
        much below the champion's metric recorded at registration (absolute units
        of the metric, e.g. 0.03 ROC AUC).
    min_labelled_rows : int
        Minimum labelled rows before any decision to retrain (evidence size).
    """

    drift_share: float | None = 0.3
    performance_drop: float | None = 0.03
    min_labelled_rows: int = 500


@dataclass(frozen=True)
class ChallengerRule:
    """How a challenger is judged against the champion on the same holdout rows."""

    metric: str = "roc_auc"
    margin: float = 0.005
    holdout_fraction: float = 0.3


@dataclass(frozen=True)
class Policy:
    """A validated retraining policy (see the module docstring for the YAML)."""

    model: str
    pipeline: Path
    champion_alias: str = "champion"
    challenger_alias: str = "challenger"
    pipeline_input: str = "train"
    label: str = "delayed"
    triggers: Triggers = field(default_factory=Triggers)
    max_rows: int = 20_000
    challenger: ChallengerRule = field(default_factory=ChallengerRule)

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
        reject_unknown(data, {"model", "pipeline", "champion_alias", "challenger_alias", "pipeline_input",
                     "label", "triggers", "window", "challenger"}, "policy")
        model = _string(data, "model", required=True)
        pipeline = Path(_string(data, "pipeline", required=True))
        if not pipeline.is_absolute():
            pipeline = (base_dir / pipeline).resolve()
        triggers_raw = _mapping(data, "triggers")
        reject_unknown(triggers_raw, {"drift_share", "performance_drop", "min_labelled_rows"}, "triggers")
        triggers = Triggers(
            drift_share=_fraction(triggers_raw, "triggers.drift_share", Triggers.drift_share),
            performance_drop=_number(
                triggers_raw, "triggers.performance_drop", Triggers.performance_drop, low=0.0
            ),
            min_labelled_rows=_integer(
                triggers_raw, "triggers.min_labelled_rows", Triggers.min_labelled_rows, low=1
            ),
        )
        window = _mapping(data, "window")
        reject_unknown(window, {"max_rows"}, "window")
        rule_raw = _mapping(data, "challenger")
        reject_unknown(rule_raw, {"metric", "margin", "holdout_fraction"}, "challenger")
        metric = str(rule_raw.get("metric", ChallengerRule.metric))
        if metric not in _METRICS:
            raise ConfigurationError(
                f"challenger.metric must be one of {', '.join(_METRICS)}, got {metric!r}"
            )
        holdout = _fraction(rule_raw, "challenger.holdout_fraction", ChallengerRule.holdout_fraction)
        if holdout is None or not 0.05 <= holdout <= 0.95:
            raise ConfigurationError("challenger.holdout_fraction must be between 0.05 and 0.95")
        return cls(
            model=model,
            pipeline=pipeline,
            champion_alias=_string(data, "champion_alias") or "champion",
            challenger_alias=_string(data, "challenger_alias") or "challenger",
            pipeline_input=_string(data, "pipeline_input") or "train",
            label=_string(data, "label") or "delayed",
            triggers=triggers,
            max_rows=_integer(window, "window.max_rows", 20_000, low=10),
            challenger=ChallengerRule(
                metric=metric,
                margin=_number(rule_raw, "challenger.margin", ChallengerRule.margin, low=0.0)
                or 0.0,
                holdout_fraction=holdout,
            ),
        )


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"policy field {key!r} must be a mapping, got {value!r}")
    return value


def _string(data: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise ConfigurationError(f"policy field {key!r} is required")
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"policy field {key!r} must be a non-empty string, got {value!r}")
    return value


def _number(
    data: Mapping[str, Any], name: str, default: float | None, *, low: float
) -> float | None:
    key = name.rsplit(".", 1)[-1]
    if key not in data:
        return default
    value = data[key]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
        raise ConfigurationError(f"policy field {name!r} must be a number >= {low}, got {value!r}")
    return float(value)


def _fraction(data: Mapping[str, Any], name: str, default: float | None) -> float | None:
    value = _number(data, name, default, low=0.0)
    if value is not None and value > 1.0:
        raise ConfigurationError(f"policy field {name!r} must be between 0 and 1, got {value!r}")
    return value


def _integer(data: Mapping[str, Any], name: str, default: int, *, low: int) -> int:
    key = name.rsplit(".", 1)[-1]
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigurationError(f"policy field {name!r} must be an integer >= {low}, got {value!r}")
    return value
