"""The loop controller: policies, triggers, the challenger gate, canary, rollback, approval.

:class:`Policy` (with :class:`Triggers`, :class:`ChallengerRule`, :class:`CanaryStage`,
:class:`RollbackRule`, :class:`ApprovalRule`)
    The YAML policy of one model's loop.
:class:`Controller`
    The crash-safe state machine (lease and state in the store).
:func:`loop_once`, :func:`run_loop`, :class:`LoopDecision`
    One cycle, or a cycle every interval.
:func:`decide`
    A person approves or rejects a promotion waiting for approval.
:func:`paired_bootstrap`, :class:`GateResult`
    The challenger gate's paired significance test.
:func:`monitor_model`, :func:`current_window`
    Monitoring of a served model.
"""

from loopml.automation.approval import decide
from loopml.automation.controller import Controller
from loopml.automation.gate import GateResult, paired_bootstrap
from loopml.automation.loop import LoopDecision, loop_once, run_loop
from loopml.automation.monitor import current_window, monitor_model
from loopml.automation.policy import (
    ApprovalRule,
    CanaryStage,
    ChallengerRule,
    Policy,
    RollbackRule,
    Triggers,
)

__all__ = [
    "ApprovalRule",
    "CanaryStage",
    "ChallengerRule",
    "Controller",
    "GateResult",
    "LoopDecision",
    "Policy",
    "RollbackRule",
    "Triggers",
    "current_window",
    "decide",
    "loop_once",
    "monitor_model",
    "paired_bootstrap",
    "run_loop",
]
