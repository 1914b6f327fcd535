"""A person's decision on a promotion waiting for approval (``loopml approve`` / ``reject``).

The decision is written into the model's controller state with a
compare-and-set (so it can neither overwrite a newer state nor be lost to a
concurrent controller write), then recorded as an audit event
(``loop.approve`` or ``loop.reject``, target ``model:<name>/loop``) naming the
actor and the reason. The controller acts on it at its next cycle: promotes,
or withdraws the challenger.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from loopml.automation.controller import loop_target
from loopml.errors import ConflictError
from loopml.store.controller_state import ControllerState

if TYPE_CHECKING:
    from loopml.api import Client

__all__ = ["decide"]


def decide(client: Client, model: str, *, approve: bool, reason: str) -> ControllerState:
    """Approve or reject the promotion of ``model`` waiting for approval, as ``client``'s actor.

    Raises
    ------
    loopml.errors.ConflictError
        Nothing waits for approval, a decision was already taken, the actor is
        not one of the policy's approvers, the reason is empty, or the state
        changed meanwhile (try again).
    """
    actor = client.settings.actor
    if not reason.strip():
        raise ConflictError("say why: a decision on a promotion needs a reason")
    state = client.store.get_controller_state(model)
    approval = state.data.get("approval") if state.phase == "pending_approval" else None
    if approval is None:
        raise ConflictError(
            f"model {model!r} has no promotion waiting for approval (loop phase {state.phase})"
        )
    if approval.get("decision") is not None:
        taken = approval["decision"]
        raise ConflictError(
            f"the promotion of v{state.challenger_version} of {model!r} was already "
            f"{'approved' if taken['approved'] else 'rejected'} by {taken['actor']}"
        )
    approvers = approval.get("approvers") or []
    if approvers and actor not in approvers:
        raise ConflictError(
            f"{actor!r} may not decide on promotions of {model!r}; approvers: {', '.join(approvers)}"
        )
    decision = {"approved": approve, "actor": actor, "reason": reason,
                "at": datetime.now(UTC).isoformat()}
    data = {**state.data, "approval": {**approval, "decision": decision}}
    saved: ControllerState = client.store.save_controller_state(
        ControllerState(model, state.phase, state.challenger_version, state.canary_started_at,
                        data, revision=state.revision),
        holder=None,
    )
    client.store.append_event(
        actor=actor,
        action="loop.approve" if approve else "loop.reject",
        target=loop_target(model),
        before={"phase": state.phase, "version": state.challenger_version},
        after={"decision": decision, "version": state.challenger_version},
        reason=reason,
    )
    return saved
