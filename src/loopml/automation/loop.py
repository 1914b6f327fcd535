"""One turn of the closed loop: observe, decide, act, and say why.

``loop_once`` follows a :class:`~loopml.automation.policy.Policy`:

1. **Observe.** Resolve the champion; take the newest ``window.max_rows``
   logged predictions of the model, compare their inputs with the champion's
   training data (data drift) and, on the rows with ground truth, compute the
   realised metric.
2. **Decide.** Retrain when there are at least ``triggers.min_labelled_rows``
   labelled rows and either the share of drifted columns reaches
   ``triggers.drift_share`` or the realised metric fell at least
   ``triggers.performance_drop`` below the champion's metric at registration.
3. **Act.** Split the labelled window by time: the newest
   ``challenger.holdout_fraction`` is held out, the rest trains a challenger
   through the policy's pipeline. Champion and challenger are scored on the
   *same* held-out rows; ``champion`` moves to the challenger only if it wins
   by ``challenger.margin``.

Every outcome, including "no retrain, because ...", is written to the audit
log with its evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from loopml.automation.monitor import current_window, monitor_model
from loopml.automation.policy import Policy
from loopml.errors import MonitoringError
from loopml.monitoring import realised_performance

if TYPE_CHECKING:
    from loopml.api import Client

__all__ = ["LoopDecision", "loop_once"]


@dataclass(frozen=True)
class LoopDecision:
    """What one turn of the loop saw, decided and did.

    ``action`` is ``"none"`` (no retrain), ``"rejected"`` (a challenger was
    trained but did not win by the margin) or ``"promoted"``.
    """

    model: str
    action: str
    reasons: tuple[str, ...]
    labelled_rows: int
    drift_share: float | None = None
    drifted_columns: tuple[str, ...] = ()
    reference_metric: float | None = None
    realised_metric: float | None = None
    champion_before: int | None = None
    champion_after: int | None = None
    challenger_version: int | None = None
    metric: str = "roc_auc"
    champion_metric: float | None = None
    challenger_metric: float | None = None
    holdout_rows: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists)."""
        return asdict(self) | {
            "reasons": list(self.reasons), "drifted_columns": list(self.drifted_columns)
        }


def loop_once(
    client: Client, policy: Policy, *, progress: Callable[[str], None] | None = None
) -> LoopDecision:
    """Observe, decide and act once under ``policy``; see the module docstring.

    Parameters
    ----------
    client : loopml.api.Client
    policy : Policy
    progress : callable, optional
        Called with a short message at each stage.

    Returns
    -------
    LoopDecision

    Raises
    ------
    loopml.errors.NotFoundError
        The model or its champion alias does not exist.
    loopml.errors.PipelineError
        Retraining failed (the champion is left untouched).
    """
    say = progress or (lambda _msg: None)
    name, metric = policy.model, policy.challenger.metric
    champion = client.registry.resolve(name, policy.champion_alias)
    base = {"model": name, "labelled_rows": 0, "metric": metric, "champion_before": champion.version}

    say(f"observing {name}@{policy.champion_alias} (v{champion.version})")
    labelled = current_window(client, name, max_rows=policy.max_rows, labelled=True)
    labelled = labelled[labelled["label"].notna()].reset_index(drop=True)
    base["labelled_rows"] = len(labelled)
    try:
        report, _, _ = monitor_model(
            client, name, policy.champion_alias, max_rows=policy.max_rows, label=policy.label
        )
    except MonitoringError as exc:
        return _finish(client, policy, LoopDecision(
            **base, action="none", reasons=(f"no retrain, because monitoring was impossible: {exc}",),
            champion_after=champion.version,
        ))
    drift = report.drift
    loaded = client.registry.load(name, str(champion.version))
    reference_metric = _as_float(loaded.manifest.metrics.get(metric))
    realised = _realised(labelled[labelled["version"] == champion.version], metric)
    base |= {
        "drift_share": drift.share_drifted,
        "drifted_columns": tuple(drift.drifted_columns),
        "reference_metric": reference_metric,
        "realised_metric": realised,
    }

    reasons = _triggers(policy, len(labelled), drift.share_drifted, reference_metric, realised)
    if not reasons:
        why = (
            f"no retrain, because drift share {drift.share_drifted:.2f} < "
            f"{policy.triggers.drift_share} and realised {metric} "
            f"{_fmt(realised)} is within {policy.triggers.performance_drop} of {_fmt(reference_metric)}"
            if len(labelled) >= policy.triggers.min_labelled_rows
            else f"no retrain, because only {len(labelled)} labelled rows "
            f"(policy needs >= {policy.triggers.min_labelled_rows})"
        )
        return _finish(client, policy, LoopDecision(
            **base, action="none", reasons=(why,), champion_after=champion.version
        ))

    say("retraining: " + "; ".join(reasons))
    train, holdout = _split_by_time(labelled, policy.challenger.holdout_fraction)
    features = [c for c in loaded.schema.feature_names if c in labelled.columns]
    train_frame = _training_frame(train, loaded.schema, features, policy.label)
    result = client.run_pipeline(
        policy.pipeline,
        inputs={policy.pipeline_input: train_frame},
        params={"promote.alias": policy.challenger_alias},
        progress=lambda step, status: say(f"  {step}: {status}"),
    )
    if result.model_version is None:
        return _finish(client, policy, LoopDecision(
            **base, action="none", champion_after=champion.version,
            reasons=(*reasons, f"retraining run {result.run_id} registered no model version"),
        ))
    challenger_version = int(result.model_version[1])
    register = next((s for s in result.steps if s.kind == "register"), None)
    if challenger_version == champion.version or (register is not None and register.cached):
        return _finish(client, policy, LoopDecision(
            **base, action="none", champion_after=champion.version,
            reasons=(*reasons, (
                f"no new model version: retraining run {result.run_id} returned "
                f"v{challenger_version} from cache (same data, code and params as before)"
            )),
        ))
    if _alias_version(client, name, policy.challenger_alias) != challenger_version:
        client.registry.set_alias(
            name, policy.challenger_alias, challenger_version,
            reason=f"trained by loop on {len(train)} recent labelled rows (run {result.run_id})",
        )

    say(f"judging v{challenger_version} against v{champion.version} on {len(holdout)} held-out rows")
    challenger = client.registry.load(name, str(challenger_version))
    y = holdout["label"].to_numpy(dtype=float)
    champion_metric = _score_metric(metric, y, _scores(loaded, holdout))
    challenger_metric = _score_metric(metric, y, _scores(challenger, holdout))
    evidence = {"holdout_start": str(holdout["timestamp"].min()),
                "holdout_end": str(holdout["timestamp"].max()),
                "train_rows": len(train), "pipeline_run": result.run_id}
    judged = {**base, "challenger_version": challenger_version, "holdout_rows": len(holdout),
              "champion_metric": champion_metric, "challenger_metric": challenger_metric,
              "evidence": evidence}
    verdict = (
        f"challenger v{challenger_version} {metric} {_fmt(challenger_metric)} vs champion "
        f"v{champion.version} {_fmt(champion_metric)} on the same {len(holdout)} held-out rows "
        f"(margin {policy.challenger.margin})"
    )
    if challenger_metric is not None and champion_metric is not None and (
        challenger_metric >= champion_metric + policy.challenger.margin
    ):
        client.registry.set_alias(
            name, policy.champion_alias, challenger_version,
            reason=f"loop promoted: {verdict}; triggered by " + "; ".join(reasons),
        )
        return _finish(client, policy, LoopDecision(
            **judged, action="promoted", champion_after=challenger_version,
            reasons=(*reasons, f"promoted, because {verdict}"),
        ))
    return _finish(client, policy, LoopDecision(
        **judged, action="rejected", champion_after=champion.version,
        reasons=(*reasons, f"kept champion, because {verdict}"),
    ))


def _alias_version(client: Client, name: str, alias: str) -> int | None:
    from loopml.errors import NotFoundError

    try:
        return int(client.registry.resolve(name, alias).version)
    except NotFoundError:
        return None


def _training_frame(
    labelled: pd.DataFrame, schema: Any, features: list[str], label: str
) -> pd.DataFrame:
    """Logged rows as the champion saw them in training: contract dtypes, categoricals as such.

    The log stores features as JSON, so text comes back as plain strings; the
    champion's categorical columns are cast back to ``category`` so the
    retrained model's contract keeps them categorical (and monitorable).
    """
    from loopml.schema import LogicalType, conform

    frame = conform(labelled[features], schema.select(features))
    for column in schema.select(features).columns:
        if column.logical_type == LogicalType.CATEGORICAL:
            frame[column.name] = frame[column.name].astype("category")
    frame[label] = labelled["label"].to_numpy()
    frame["timestamp"] = labelled["timestamp"].to_numpy()
    return frame.reset_index(drop=True)


def _triggers(
    policy: Policy, n_labelled: int, share: float, reference: float | None, realised: float | None
) -> list[str]:
    t = policy.triggers
    if n_labelled < t.min_labelled_rows:
        return []
    reasons = []
    if t.drift_share is not None and share >= t.drift_share:
        reasons.append(f"drift share {share:.2f} >= {t.drift_share}")
    if (
        t.performance_drop is not None and reference is not None and realised is not None
        and reference - realised >= t.performance_drop
    ):
        reasons.append(
            f"realised {policy.challenger.metric} {realised:.4f} is {reference - realised:.4f} "
            f"below {reference:.4f} at registration (>= {t.performance_drop})"
        )
    return reasons


def _split_by_time(frame: pd.DataFrame, holdout_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    ordered = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    cut = round(len(ordered) * (1.0 - holdout_fraction))
    return ordered.iloc[:cut].reset_index(drop=True), ordered.iloc[cut:].reset_index(drop=True)


def _scores(model: Any, frame: pd.DataFrame) -> np.ndarray:
    from loopml.schema import conform

    features = conform(frame[[c for c in model.schema.feature_names]], model.schema)
    scores = model.positive_score(features)
    if scores is None:
        return np.asarray(model.predict(features), dtype=float)
    return np.asarray(scores, dtype=float)


def _realised(labelled: pd.DataFrame, metric: str) -> float | None:
    if labelled.empty or labelled["score"].isna().all():
        return None
    rows = labelled[labelled["score"].notna()]
    return _score_metric(metric, rows["label"].to_numpy(dtype=float), rows["score"].to_numpy(dtype=float))


def _score_metric(metric: str, y_true: np.ndarray, y_score: np.ndarray) -> float | None:
    """``metric`` of binary labels ``y_true`` given positive-class scores; None if undefined.

    The numbers come from :func:`loopml.monitoring.realised_performance`, the
    same computation the monitoring report shows.
    """
    if len(y_true) == 0 or len(np.unique(y_true)) < 2:
        return None
    performance = realised_performance(y_true, y_score)
    if metric == "neg_log_loss":
        return -performance.log_loss
    value = getattr(performance, metric)
    return None if value is None else float(value)


def _as_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _finish(client: Client, policy: Policy, decision: LoopDecision) -> LoopDecision:
    client.store.append_event(
        actor=f"loop:{client.settings.actor}",
        action=f"loop.{decision.action}",
        target=f"model:{policy.model}/loop",
        before={"version": decision.champion_before},
        after={"version": decision.champion_after},
        reason=" | ".join(decision.reasons),
    )
    return decision
