"""``loopml loop once | run | status``: the closed loop, one cycle or long-running."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from loopml.cli._common import client, console, print_json, require_model

app = typer.Typer(help="The closed loop: observe, decide, retrain, judge, canary, promote, "
                  "roll back.", no_args_is_help=True)

PolicyFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Policy YAML file.")]
_COLOURS = {"promoted": "green", "rejected": "yellow", "withdrawn": "yellow", "rolled_back": "red"}


def _show(decision: Any, as_json: bool) -> None:
    if as_json:
        print_json(decision.to_dict())
        return
    colour = _COLOURS.get(decision.action, "white")
    console.print(f"[{colour}]{decision.action}[/{colour}] (phase {decision.phase})")
    for reason in decision.reasons:
        console.print(f"  - {reason}")


@app.command("once")
def once(
    policy: PolicyFile,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """One cycle under the model's lease: resume the loop's phase and go on until it must wait.

    Every transition and its evidence go to the audit log.
    """
    with client() as c:
        decision = c.loop_once(policy, progress=None if as_json else console.print)
        _show(decision, as_json)


@app.command("run")
def run(
    policy: PolicyFile,
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between cycles.")
    ] = 60.0,
    max_cycles: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many cycles (default: never).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per cycle.")] = False,
) -> None:
    """Run a cycle every INTERVAL seconds, holding the model's lease; SIGTERM or Ctrl-C stops
    after the current cycle and releases the lease."""
    from loopml.automation import Policy, run_loop

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with client() as c:
            cycles = run_loop(
                c, Policy.from_yaml(policy), interval=interval, max_cycles=max_cycles, stop=stop,
                on_decision=lambda d: _show(d, as_json),
            )
            if not as_json:
                console.print(f"stopped after {cycles} cycle(s); lease released")
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@app.command("status")
def status(
    model: Annotated[str, typer.Argument(help="Registered model name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False,
) -> None:
    """The loop's phase for MODEL, its challenger, what it waits for, and who holds the lease."""
    with client() as c:
        require_model(c, model)
        state = c.store.get_controller_state(model)
        lease = c.store.get_lease(model)
        body: dict[str, Any] = {
            "model": model,
            "phase": state.phase,
            "challenger_version": state.challenger_version,
            "canary_started_at": state.canary_started_at,
            "updated_at": state.updated_at,
            "revision": state.revision,
            "champion": state.data.get("champion"),
            "probation": state.data.get("probation"),
            "approval": state.data.get("approval"),
            "lease": None if lease is None else {"holder": lease.holder,
                                                 "expires_at": lease.expires_at},
        }
        if as_json:
            print_json(body)
            return
        console.print(f"[bold]{model}[/bold]: phase [cyan]{state.phase}[/cyan]"
                      + (f", challenger v{state.challenger_version}"
                         if state.challenger_version is not None else ""))
        approval = body["approval"]
        if state.phase == "pending_approval" and approval:
            console.print(f"  pending approval until {approval['deadline']}: "
                          f"`loopml approve {model} -r WHY` or `loopml reject {model} -r WHY`")
        if state.canary_started_at is not None:
            console.print(f"  canary since {state.canary_started_at.isoformat()}")
        if body["probation"]:
            p = body["probation"]
            console.print(f"  champion v{p['version']} on probation since {p['since']} "
                          f"(rollback to v{p['previous']})")
        console.print(f"  lease: {'free' if lease is None else lease.holder} "
                      + ("" if lease is None else f"until {lease.expires_at.isoformat()}"))
