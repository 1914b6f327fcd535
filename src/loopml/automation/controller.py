"""The loop controller: observe, decide, act, one model at a time, crash-safe.

Per model the controller keeps a state in the store
(:class:`loopml.store.controller_state.ControllerState`) and moves through
the phases::

    idle -> retraining -> gating -> [canary] -> [pending_approval] -> promoting -> idle
                             |           \\______________\\___________> withdrawing -> idle
                             +-> idle (gate failed)
    idle -> rolling_back -> idle      (a new champion broke the rollback criteria)

**One controller per model.** Every cycle first takes the model's lease in the
store (:meth:`Controller.acquire`); every state write checks, in the same
transaction, that the lease is still ours and that nobody wrote the state
meanwhile (compare-and-set on its revision). A heartbeat renews the lease
while a long step (training) runs.

**Intent first, then the world, then the record.** A phase that changes the
world is entered by writing its intent (``promoting``: which version replaces
which; ``rolling_back``: from and to) before anything moves. Its handler then
looks at the world before acting: an alias already where it should be is not
moved again, one that somebody else moved is left alone. Each alias move is one
atomic, audited registry call, so it is never half done. The audit event of a
transition names the step it belongs to and is written only if no event of
that step exists yet. Killed at any point and restarted, the controller
therefore resumes the phase it was in, never promotes twice, and reruns an
interrupted retraining on the very rows it had saved (the pipeline's step
cache makes the rerun cheap and returns the version registered before).

**Evidence.** Every transition is an audit event (target ``model:<name>/loop``,
action ``loop.<what>``) whose ``after`` carries the evidence: trigger numbers,
windows, run id, the gate's paired test, canary and rollback measurements.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from loopml.automation.gate import paired_bootstrap
from loopml.automation.live import error_counts, error_rate, judge_canary, judge_rollback
from loopml.automation.policy import Policy
from loopml.automation.triggers import observe
from loopml.automation.window import (
    load_frames,
    save_frames,
    score_metric,
    scores,
    split_by_time,
    training_frame,
)
from loopml.errors import (
    ConflictError,
    DataError,
    ModelPackageError,
    MonitoringError,
    NotFoundError,
    PipelineError,
)
from loopml.store.controller_state import ControllerState

if TYPE_CHECKING:
    from loopml.api import Client
    from loopml.automation.loop import LoopDecision

__all__ = ["Controller", "loop_target"]

_log = logging.getLogger(__name__)

_DETERMINISTIC = (DataError, ModelPackageError, MonitoringError, PipelineError)
"""Errors that end a retraining or gating attempt (back to idle, audited) instead of being
retried; store errors are not among them: the cycle stops and the next one resumes."""

_KEEP = ("champion", "probation", "last_retrain")
"""State data that outlives a cycle: the champion the loop knows, its probation, last retrain."""


def loop_target(model: str) -> str:
    """Audit ``target`` of the loop's events about ``model``."""
    return f"model:{model}/loop"


@dataclass
class _Cycle:
    """What one cycle saw and did; becomes a :class:`LoopDecision`."""

    model: str
    metric: str
    action: str = "none"
    reasons: list[str] = field(default_factory=list)
    labelled_rows: int = 0
    drift_share: float | None = None
    drifted_columns: tuple[str, ...] = ()
    reference_metric: float | None = None
    realised_metric: float | None = None
    champion_before: int | None = None
    champion_after: int | None = None
    challenger_version: int | None = None
    champion_metric: float | None = None
    challenger_metric: float | None = None
    holdout_rows: int = 0
    phase: str = "idle"
    evidence: dict[str, Any] = field(default_factory=dict)


class Controller:
    """Drive one model's loop under ``policy``; see the module docstring.

    Parameters
    ----------
    client : loopml.api.Client
    policy : Policy
    holder : str, optional
        Name of this controller in the lease (default ``host:pid:random``).
    lease_seconds : float
        Lease time to live; renewed every third of it while a cycle runs.
    clock : callable, optional
        Returns the current aware UTC time (tests pass a fake one).
    """

    def __init__(
        self,
        client: Client,
        policy: Policy,
        *,
        holder: str | None = None,
        lease_seconds: float = 300.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.client = client
        self.policy = policy
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_seconds = lease_seconds
        self.clock = clock or (lambda: datetime.now(UTC))
        self._say: Callable[[str], None] = lambda _message: None
        self._audit_idle = True

    # ------------------------------------------------------------------ lease
    def acquire(self) -> bool:
        """Take or renew the model's lease; False while another controller holds it."""
        lease = self.client.store.acquire_lease(
            self.policy.model, self.holder, ttl_seconds=self.lease_seconds, now=self.clock()
        )
        return lease is not None

    def release(self) -> None:
        """Give the lease back (a no-op when not held)."""
        self.client.store.release_lease(self.policy.model, self.holder)

    @contextlib.contextmanager
    def _heartbeat(self) -> Iterator[None]:
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.lease_seconds / 3):
                try:
                    self.acquire()
                except Exception:  # noqa: BLE001 -- the next state write finds out
                    _log.warning("renewing the lease of %s failed", self.policy.model, exc_info=True)

        thread = threading.Thread(target=beat, name="loopml-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    # ------------------------------------------------------------------ cycle
    def step(
        self, *, progress: Callable[[str], None] | None = None, audit_idle: bool = True
    ) -> LoopDecision:
        """One cycle: resume the current phase and go on until a phase has to wait.

        Parameters
        ----------
        progress : callable, optional
            Called with a short message at each stage.
        audit_idle : bool
            Write a ``loop.none`` audit event when nothing fired (``loopml loop
            once`` does; the long-running ``loop run`` does not, to keep the log
            to transitions).

        Raises
        ------
        loopml.errors.ConflictError
            Another controller holds the lease, or took it meanwhile.
        loopml.errors.NotFoundError
            The model or its champion alias does not exist.
        """
        from loopml.automation.loop import LoopDecision

        name = self.policy.model
        if not self.acquire():
            lease = self.client.store.get_lease(name)
            raise ConflictError(
                f"model {name!r} is looked after by controller "
                f"{'?' if lease is None else lease.holder!r} (lease until "
                f"{'?' if lease is None else lease.expires_at.isoformat()})"
            )
        self._say = progress or (lambda _message: None)
        self._audit_idle = audit_idle
        cycle = _Cycle(model=name, metric=self.policy.challenger.metric)
        handlers = {
            "idle": self._idle, "retraining": self._retraining, "gating": self._gating,
            "canary": self._canary, "pending_approval": self._pending, "promoting": self._promoting,
            "withdrawing": self._withdrawing, "rolling_back": self._rolling_back,
        }
        state = self.client.store.get_controller_state(name)
        with self._heartbeat():
            if state.phase in ("idle", "canary", "pending_approval"):
                state = self._watch(state, cycle)
            for _ in range(3 * len(handlers)):
                state, done = handlers[state.phase](state, cycle)
                if done:
                    break
        cycle.phase = state.phase
        values = {f.name: getattr(cycle, f.name) for f in fields(cycle)}
        values["reasons"] = tuple(cycle.reasons)
        return LoopDecision(**values)

    # ----------------------------------------------------------------- phases
    def _watch(self, state: ControllerState, cycle: _Cycle) -> ControllerState:
        """Notice a champion that changed (by the loop or by hand) and judge it while on
        probation; a broken one goes to ``rolling_back`` (withdrawing any challenger)."""
        policy, name = self.policy, self.policy.model
        champion = self._alias(policy.champion_alias)
        if champion is None:
            raise NotFoundError(f"model {name!r} has no alias {policy.champion_alias!r}")
        cycle.champion_before = cycle.champion_after = champion
        known = state.data.get("champion")
        if known != champion:
            data: dict[str, Any] = {**state.data, "champion": champion, "probation": None}
            if known is not None and policy.rollback is not None:
                since = self.client.store.get_alias(name, policy.champion_alias).updated_at
                data["probation"] = self._probation(champion, known, since)
                self._audit(state, "watch", f"champion moved from v{known} to v{champion} outside "
                            "the loop; watching it against the rollback criteria",
                            {"probation": data["probation"]}, champion, champion)
            state = self._save(state, state.phase, data)
        probation = state.data.get("probation")
        if probation is None or policy.rollback is None or probation["version"] != champion:
            return state
        check = self._judge_rollback(probation, self.clock())
        if check is None or check.ok is not False:
            return state
        rollback = {"from": champion, "to": probation["previous"],
                    "reasons": list(check.reasons), "evidence": check.evidence}
        return self._save(state, "rolling_back", {"rollback": rollback})

    def _idle(self, state: ControllerState, cycle: _Cycle) -> tuple[ControllerState, bool]:
        policy, name, now = self.policy, self.policy.model, self.clock()
        champion = int(state.data["champion"])
        if policy.canary is not None and self._alias(policy.canary.alias) is not None:
            self.client.registry.delete_alias(
                name, policy.canary.alias, reason="loop: no canary in progress"
            )
        self._say(f"observing {name}@{policy.champion_alias} (v{champion})")
        last = state.data.get("last_retrain") or {}
        created = self.client.registry.resolve(name, champion).created_at
        seen = observe(
            self.client, policy, champion=champion, now=now,
            since=_time(last.get("data_end")) or created,
            last_retrain_at=_time(last.get("at")) or created,
        )
        ev = seen.evidence
        cycle.labelled_rows, cycle.evidence = len(seen.labelled), {"triggers": ev}
        cycle.drift_share = ev.get("drift_share")
        cycle.drifted_columns = tuple(ev.get("drifted_columns", ()))
        cycle.reference_metric, cycle.realised_metric = ev["reference_metric"], ev["realised_metric"]
        if not seen.reasons:
            cycle.action, cycle.reasons = "none", [seen.why_not]
            if self._audit_idle:
                self._audit(state, "none", seen.why_not, {"triggers": ev}, champion, champion,
                            once=False)
            return state, True
        self._say("retraining: " + "; ".join(seen.reasons))
        cycle.reasons += seen.reasons
        loaded = self.client.registry.load(name, str(champion))
        train, holdout = split_by_time(seen.labelled, policy.challenger.holdout_fraction)
        frames = {"train": training_frame(train, loaded.schema, policy.label), "holdout": holdout}
        retrain = {
            "reasons": list(seen.reasons), "triggers": ev, "champion": champion,
            "frames": save_frames(self.client, name, frames), "train_rows": len(train),
            "holdout_rows": len(holdout), "data_end": str(seen.labelled["timestamp"].max()),
            "holdout_window": [str(holdout["timestamp"].min()), str(holdout["timestamp"].max())],
            "running": False,
        }
        return self._save(state, "retraining", {"retrain": retrain}), False

    def _retraining(self, state: ControllerState, cycle: _Cycle) -> tuple[ControllerState, bool]:
        policy, name = self.policy, self.policy.model
        retrain = dict(state.data["retrain"])
        resumed = bool(retrain["running"])
        if not resumed:
            retrain["running"] = True
            state = self._save(state, "retraining", {"retrain": retrain}, new_step=False)
        cycle.reasons = cycle.reasons or list(retrain["reasons"])
        train = load_frames(self.client, retrain["frames"])["train"]
        champion = self._alias(policy.champion_alias)
        cycle.champion_before = cycle.champion_after = champion
        last = {"at": self.clock().isoformat(), "data_end": retrain["data_end"]}
        try:
            result = self.client.run_pipeline(
                policy.pipeline,
                inputs={policy.pipeline_input: train},
                params={"promote.alias": policy.challenger_alias},
                progress=lambda step, status: self._say(f"  {step}: {status}"),
            )
        except _DETERMINISTIC as exc:  # rerunning on the same rows fails the same way
            cycle.action = "failed"
            cycle.reasons.append(f"retraining failed: {type(exc).__name__}: {exc}")
            self._audit(state, "failed", " | ".join(cycle.reasons), {"retrain": retrain},
                        champion, champion)
            return self._save(state, "idle", {"last_retrain": last}), True
        retrain["run_id"] = result.run_id
        version = None if result.model_version is None else int(result.model_version[1])
        register = next((s for s in result.steps if s.kind == "register"), None)
        stale = register is not None and register.cached and not resumed
        if version is None or version == champion or stale:
            why = (
                f"retraining run {result.run_id} registered no model version" if version is None
                else f"no new model version: retraining run {result.run_id} returned v{version} "
                "from cache (same data, code and params as before)"
            )
            cycle.reasons.append(why)
            self._audit(state, "none", " | ".join(cycle.reasons), {"retrain": retrain},
                        champion, champion)
            return self._save(state, "idle", {"last_retrain": last}), True
        if self._alias(policy.challenger_alias) != version:
            self.client.registry.set_alias(
                name, policy.challenger_alias, version,
                reason=f"trained by loop on {retrain['train_rows']} recent labelled rows "
                f"(run {result.run_id})",
            )
        self._audit(state, "retrained", f"v{version} trained by run {result.run_id} because "
                    + "; ".join(retrain["reasons"]), {"retrain": retrain}, champion, champion)
        data = {"retrain": retrain, "last_retrain": last}
        return self._save(state, "gating", data, challenger=version), False

    def _gating(self, state: ControllerState, cycle: _Cycle) -> tuple[ControllerState, bool]:
        policy, name, rule = self.policy, self.policy.model, self.policy.challenger
        retrain, version = state.data["retrain"], int(state.challenger_version or 0)
        champion = self._alias(policy.champion_alias)
        cycle.champion_before = cycle.champion_after = champion
        cycle.challenger_version = version
        cycle.reasons = cycle.reasons or list(retrain["reasons"])
        holdout = load_frames(self.client, retrain["frames"])["holdout"]
        cycle.holdout_rows = len(holdout)
        self._say(f"judging v{version} against v{champion} on {len(holdout)} held-out rows")
        evidence = {"holdout_window": retrain["holdout_window"], "run_id": retrain.get("run_id"),
                    "champion": champion, "challenger": version}
        try:
            y = pd.to_numeric(holdout["label"], errors="coerce").to_numpy(dtype=float)
            old = scores(self.client.registry.load(name, str(champion)), holdout)
            new = scores(self.client.registry.load(name, str(version)), holdout)
            cycle.champion_metric = score_metric(rule.metric, y, old)
            cycle.challenger_metric = score_metric(rule.metric, y, new)
            gate = paired_bootstrap(y, old, new, metric=rule.metric, margin=rule.margin,
                                    alpha=rule.alpha, n_resamples=rule.resamples, seed=rule.seed)
        except _DETERMINISTIC as exc:  # judged again, the same rows fail the same way
            verdict, passed = f"the gate cannot judge: {type(exc).__name__}: {exc}", False
        else:
            evidence["gate"] = gate.to_dict()
            verdict, passed = gate.describe(), gate.passed
        cycle.evidence = evidence
        if not passed:
            cycle.action = "rejected"
            cycle.reasons.append(f"kept champion, because {verdict}")
            self._audit(state, "rejected", " | ".join(cycle.reasons), evidence, champion, champion)
            return self._save(state, "idle", {}), True
        cycle.reasons.append(f"gate passed: {verdict}")
        data = {"gate": evidence, "previous": champion}
        if policy.canary is not None:
            stage = policy.canary
            self._audit(state, "canary", f"gate passed: {verdict}; v{version} goes to canary "
                        f"alias {stage.alias!r} at {stage.weight}% of traffic", evidence,
                        champion, champion)
            data["errors_at_start"] = self._error_counts()
            return self._save(state, "canary", data, canary_started_at=self.clock()), False
        return self._live_passed(state, data, cycle, verdict)

    def _canary(self, state: ControllerState, cycle: _Cycle) -> tuple[ControllerState, bool]:
        policy, name, now = self.policy, self.policy.model, self.clock()
        stage, version = policy.canary, int(state.challenger_version or 0)
        assert stage is not None and state.canary_started_at is not None, "canary without a stage"
        champion = self._alias(policy.champion_alias)
        cycle.champion_before = cycle.champion_after = champion
        cycle.challenger_version = version
        if self._alias(stage.alias) != version:
            self.client.registry.set_alias(
                name, stage.alias, version,
                reason=f"loop canary: v{version} answers {stage.weight}% of requests",
            )
        predictions = self.client.predictions.read_predictions(name, start=state.canary_started_at)
        check = judge_canary(
            predictions, self.client.predictions.read_feedback(name), challenger=version,
            stage=stage, error_rates=self._error_rates(state.data.get("errors_at_start"), version),
        )
        evidence = {"canary": check.evidence, "gate": state.data.get("gate"),
                    "canary_started_at": state.canary_started_at.isoformat()}
        cycle.evidence = evidence
        cycle.reasons += list(check.reasons)
        if check.ok is None and now - state.canary_started_at < timedelta(hours=stage.max_hours):
            cycle.action = "canary"
            return state, True
        if check.ok is None:
            reasons = [f"canary undecided after {stage.max_hours} h: " + "; ".join(check.reasons)]
        elif check.ok is False:
            reasons = list(check.reasons)
        else:
            return self._live_passed(state, {**state.data, "canary": evidence}, cycle,
                                     "; ".join(check.reasons))
        return self._save(state, "withdrawing", {"withdraw": {"reasons": reasons,
                                                             "evidence": evidence}}), False

    def _live_passed(
        self, state: ControllerState, data: dict[str, Any], cycle: _Cycle, verdict: str
    ) -> tuple[ControllerState, bool]:
        """The challenger passed the gate (and the canary): to approval or to promotion."""
        approval, version = self.policy.approval, int(state.challenger_version or 0)
        keep: dict[str, Any] = {
            k: data[k] for k in ("gate", "canary", "previous", "errors_at_start") if k in data
        }
        if approval is None:
            return self._save(state, "promoting", {**keep, "verdict": verdict}), False
        deadline = self.clock() + timedelta(hours=approval.timeout_hours)
        pending = {"deadline": deadline.isoformat(), "approvers": list(approval.approvers),
                   "decision": None, "version": version}
        self._audit(state, "pending_approval", f"v{version} waits for approval until "
                    f"{deadline.isoformat()}: {verdict}", {**keep, "approval": pending},
                    cycle.champion_before, cycle.champion_before)
        state = self._save(state, "pending_approval", {**keep, "verdict": verdict,
                                                       "approval": pending})
        cycle.action = "pending_approval"
        cycle.reasons.append(f"waiting for `loopml approve {self.policy.model}` until "
                             f"{deadline.isoformat()}")
        return state, True

    def _pending(self, state: ControllerState, cycle: _Cycle) -> tuple[ControllerState, bool]:
        approval = state.data["approval"]
        decision = approval.get("decision")
        cycle.challenger_version = state.challenger_version
        cycle.champion_before = cycle.champion_after = self._alias(self.policy.champion_alias)
        if decision is not None and decision["approved"]:
            verdict = f"approved by {decision['actor']}: {decision['reason']}"
            return self._save(state, "promoting", {**state.data, "verdict": verdict}), False
        if decision is not None or self.clock() >= datetime.fromisoformat(approval["deadline"]):
            why = (f"rejected by {decision['actor']}: {decision['reason']}" if decision is not None
                   else f"approval timed out at {approval['deadline']}")
            withdraw = {"reasons": [why], "evidence": {"approval": approval}}
            return self._save(state, "withdrawing", {"withdraw": withdraw}), False
        cycle.action = "pending_approval"
        cycle.reasons = [f"v{state.challenger_version} waits for approval until {approval['deadline']}"]
        return state, True

    def _promoting(self, state: ControllerState, cycle: _Cycle) -> tuple[ControllerState, bool]:
        policy, name = self.policy, self.policy.model
        version, previous = int(state.challenger_version or 0), state.data["previous"]
        champion = self._alias(policy.champion_alias)
        cycle.champion_before, cycle.challenger_version = previous, version
        if champion not in (previous, version):
            why = (f"champion moved to v{champion} by someone else while v{version} was being "
                   "promoted; left as it is")
            return self._save(state, "withdrawing", {"withdraw": {"reasons": [why]}}), False
        verdict = state.data.get("verdict", "")
        if champion == previous:
            self.client.registry.set_alias(
                name, policy.champion_alias, version, reason=f"loop promoted v{version}: {verdict}"
            )
        self._drop_canary(version)
        evidence = {k: state.data.get(k) for k in ("gate", "canary", "approval")}
        reason = f"promoted v{version} over v{previous}, because {verdict}"
        self._audit(state, "promoted", reason, evidence, previous, version)
        cycle.action, cycle.champion_after = "promoted", version
        cycle.reasons.append(f"promoted, because {verdict}")
        since = self.client.store.get_alias(name, policy.champion_alias).updated_at
        probation = None if policy.rollback is None else self._probation(version, previous, since)
        return self._save(state, "idle", {"champion": version, "probation": probation}), True

    def _withdrawing(self, state: ControllerState, cycle: _Cycle) -> tuple[ControllerState, bool]:
        version, withdraw = state.challenger_version, state.data["withdraw"]
        if version is not None:
            self._drop_canary(version)
        champion = self._alias(self.policy.champion_alias)
        reason = f"withdrew v{version}, because " + "; ".join(withdraw["reasons"])
        self._audit(state, "withdrawn", reason, withdraw.get("evidence", {}), champion, champion)
        cycle.action, cycle.challenger_version = "withdrawn", version
        cycle.champion_before = cycle.champion_after = champion
        cycle.reasons = [reason]
        return self._save(state, "idle", {}), True

    def _rolling_back(self, state: ControllerState, cycle: _Cycle) -> tuple[ControllerState, bool]:
        policy, name, rollback = self.policy, self.policy.model, state.data["rollback"]
        source, target = int(rollback["from"]), int(rollback["to"])
        champion = self._alias(policy.champion_alias)
        reason = f"rolled back v{source} to v{target}, because " + "; ".join(rollback["reasons"])
        if champion == source:
            self.client.registry.set_alias(name, policy.champion_alias, target, reason=reason)
        elif champion != target:
            reason = f"no rollback: champion moved to v{champion} meanwhile"
        if state.challenger_version is not None:
            self._drop_canary(state.challenger_version)
            reason += f"; challenger v{state.challenger_version} withdrawn"
        self._audit(state, "rolled_back", reason, rollback["evidence"], source,
                    self._alias(policy.champion_alias))
        cycle.action, cycle.reasons = "rolled_back", [reason]
        cycle.champion_before, cycle.champion_after = source, self._alias(policy.champion_alias)
        cycle.evidence = rollback["evidence"]
        data = {"champion": cycle.champion_after, "probation": None}
        return self._save(state, "idle", data), True

    # ---------------------------------------------------------------- helpers
    def _save(
        self,
        state: ControllerState,
        phase: str,
        data: dict[str, Any],
        *,
        challenger: int | None = None,
        canary_started_at: datetime | None = None,
        new_step: bool = True,
    ) -> ControllerState:
        """Write the next state (compare-and-set under our lease), keeping the lasting keys."""
        kept = {k: state.data[k] for k in _KEEP if k in state.data}
        step = uuid.uuid4().hex if new_step else state.data.get("step")
        if phase == "idle":
            challenger, canary_started_at = None, None
        elif challenger is None:
            challenger = state.challenger_version
            canary_started_at = canary_started_at or state.canary_started_at
        new = replace(
            state, phase=phase, challenger_version=challenger,
            canary_started_at=canary_started_at, data=_jsonable({**kept, **data, "step": step}),
        )
        saved: ControllerState = self.client.store.save_controller_state(
            new, holder=self.holder, now=self.clock()
        )
        return saved

    def _audit(
        self,
        state: ControllerState,
        action: str,
        reason: str,
        evidence: dict[str, Any],
        before: int | None,
        after: int | None,
        *,
        once: bool = True,
    ) -> None:
        """Append the ``loop.<action>`` event of this step, unless it was written already
        (``once=False``: always, for the idle decisions that belong to no step)."""
        store, target, step = self.client.store, loop_target(self.policy.model), state.data.get("step")
        if once and step is not None and any(
            (event.after or {}).get("step") == step
            for event in store.list_events(target_prefix=target, action=f"loop.{action}", limit=20)
        ):
            return
        store.append_event(
            actor=f"loop:{self.client.settings.actor}",
            action=f"loop.{action}",
            target=target,
            before={"phase": state.phase, "version": before},
            after=_jsonable({"step": step, "version": after,
                             "challenger": state.challenger_version, "evidence": evidence}),
            reason=reason,
        )

    def _alias(self, alias: str) -> int | None:
        try:
            return int(self.client.registry.resolve(self.policy.model, alias).version)
        except NotFoundError:
            return None

    def _drop_canary(self, version: int) -> None:
        stage = self.policy.canary
        if stage is not None and self._alias(stage.alias) == version:
            self.client.registry.delete_alias(
                self.policy.model, stage.alias, reason=f"loop: canary of v{version} ended"
            )

    def _probation(self, version: int, previous: int, since: datetime) -> dict[str, Any]:
        """Watch ``version`` against the previous champion's realised ROC AUC before ``since``."""
        labelled = self.client.predictions.read_labelled(self.policy.model, end=since)
        rows = labelled[labelled["version"] == previous].tail(self.policy.max_rows)
        rows = rows.dropna(subset=["score", "label"])
        y = rows["label"].astype(float).to_numpy()
        baseline = score_metric("roc_auc", y, rows["score"].to_numpy(dtype=float))
        return {"version": version, "previous": previous, "since": since.isoformat(),
                "baseline": baseline, "baseline_rows": len(rows),
                "errors_at_start": self._error_counts()}

    def _judge_rollback(self, probation: dict[str, Any], now: datetime) -> Any:
        rule = self.policy.rollback
        since = datetime.fromisoformat(probation["since"])
        if rule is None or now - since > timedelta(hours=rule.within_hours):
            return None
        name, version = self.policy.model, int(probation["version"])
        return judge_rollback(
            self.client.predictions.read_predictions(name, start=since),
            self.client.predictions.read_feedback(name),
            version=version, baseline=probation["baseline"], rule=rule,
            error_rates=self._error_rates(probation.get("errors_at_start"), version),
        )

    def _error_counts(self) -> dict[str, dict[str, float]] | None:
        if self.policy.metrics_url is None:
            return None
        import httpx

        try:
            response = httpx.get(self.policy.metrics_url, timeout=10)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            _log.warning("cannot read %s: %s", self.policy.metrics_url, exc)
            return None
        return error_counts(response.text)

    def _error_rates(self, start: Any, version: int) -> dict[str, float | None] | None:
        now = self._error_counts()
        if now is None:
            return None
        rate, _ = error_rate(now, start or {}, str(version))
        return {str(version): rate}


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    stamp = datetime.fromisoformat(str(text).replace(" ", "T"))
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def _jsonable(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers, non-finite floats as ``None``."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return value
