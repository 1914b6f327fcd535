"""The loop controller: policies, monitoring of served models, one turn of the loop."""

from loopml.automation.loop import LoopDecision, loop_once
from loopml.automation.monitor import current_window, monitor_model
from loopml.automation.policy import ChallengerRule, Policy, Triggers

__all__ = [
    "ChallengerRule",
    "LoopDecision",
    "Policy",
    "Triggers",
    "current_window",
    "loop_once",
    "monitor_model",
]
