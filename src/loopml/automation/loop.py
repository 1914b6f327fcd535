"""Running the loop: one cycle (``loop once``) or a long-running controller (``loop run``).

Both drive a :class:`loopml.automation.controller.Controller` under the
model's lease. :func:`loop_once` takes the lease, runs one cycle (resuming
whatever phase the model's loop is in, and going on until a phase has to
wait), and gives the lease back. :func:`run_loop` keeps the lease and runs a
cycle every ``interval`` seconds until ``stop`` is set (``loopml loop run``
sets it on SIGTERM and Ctrl-C, between cycles), then releases the lease.

A cycle under a policy without canary or approval goes idle -> retraining ->
gating -> promoting -> idle in one call, as the first version of
``loop_once`` did; its :class:`LoopDecision` keeps the same fields.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from loopml.automation.controller import Controller
from loopml.automation.policy import Policy
from loopml.errors import ConfigurationError, LoopMLError

if TYPE_CHECKING:
    from loopml.api import Client

__all__ = ["LoopDecision", "loop_once", "run_loop"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopDecision:
    """What one cycle of the loop saw, decided and did.

    ``action``: ``"none"`` (no retrain), ``"failed"`` (retraining failed; the
    attempt ended), ``"rejected"`` (a challenger failed the gate or could not
    be judged), ``"canary"`` (a challenger is in canary, waiting for evidence),
    ``"pending_approval"``, ``"promoted"``, ``"withdrawn"`` (canary failed,
    rejected by a person or timed out) or ``"rolled_back"``. ``phase`` is the
    model's loop phase after the cycle.
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
    phase: str = "idle"
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists)."""
        return asdict(self) | {
            "reasons": list(self.reasons), "drifted_columns": list(self.drifted_columns)
        }


def _check_pipeline(policy: Policy) -> None:
    """The policy's pipeline file must exist before the loop acts (never a half-started retrain)."""
    if not policy.pipeline.is_file():
        raise ConfigurationError(
            f"policy field 'pipeline': pipeline file {str(policy.pipeline)!r} does not exist"
        )


def loop_once(
    client: Client, policy: Policy, *, progress: Callable[[str], None] | None = None
) -> LoopDecision:
    """One cycle of the loop under ``policy``, under the model's lease.

    Raises
    ------
    loopml.errors.ConflictError
        Another controller looks after the model (holds its lease).
    loopml.errors.NotFoundError
        The model or its champion alias does not exist.
    loopml.errors.PipelineError
        Retraining failed (the champion is left untouched; the next cycle retries).
    loopml.errors.ConfigurationError
        The policy's pipeline file does not exist.
    """
    _check_pipeline(policy)
    controller = Controller(client, policy)
    try:
        return controller.step(progress=progress)
    finally:
        controller.release()


def run_loop(
    client: Client,
    policy: Policy,
    *,
    interval: float = 60.0,
    max_cycles: int | None = None,
    stop: threading.Event | None = None,
    on_decision: Callable[[LoopDecision], None] | None = None,
    lease_seconds: float = 300.0,
) -> int:
    """Run a cycle every ``interval`` seconds until ``stop`` is set or ``max_cycles`` ran.

    A cycle that fails (the store is unreachable, retraining raised) is
    logged and retried at the next interval; a cycle that finds the lease held
    by another controller waits for the next interval too. The lease is
    released on the way out. Returns the number of cycles that ran.
    """
    _check_pipeline(policy)
    stop = stop or threading.Event()
    controller = Controller(client, policy, lease_seconds=max(lease_seconds, 3 * interval))
    cycles = 0
    try:
        while not stop.is_set() and (max_cycles is None or cycles < max_cycles):
            try:
                decision = controller.step(audit_idle=cycles == 0)
            except LoopMLError as exc:
                _log.warning("loop cycle for %s did not finish: %s", policy.model, exc)
            else:
                if on_decision is not None:
                    on_decision(decision)
            cycles += 1
            if max_cycles is not None and cycles >= max_cycles:
                break
            stop.wait(interval)
    finally:
        controller.release()
    return cycles
