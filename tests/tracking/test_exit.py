"""Metrics buffered when a process exits without ending its run are not lost."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from loopml.entities import RunStatus
from loopml.store import open_store

SCRIPT = textwrap.dedent(
    """
    import sys
    from loopml.store import ArtifactStore, open_store
    from loopml.tracking import Tracker

    url, root, crash = sys.argv[1], sys.argv[2], sys.argv[3] == "crash"
    # a long interval and a huge batch: nothing is written before exit
    tracker = Tracker(open_store(url), ArtifactStore(root), flush_interval=600, batch_size=10**9)
    run = tracker.start_run("exit", run_name="no-end")
    for step in range(5000):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    print(run.id, flush=True)
    if crash:
        raise RuntimeError("boom")
    """
)


@pytest.mark.parametrize(
    ("mode", "status"), [("clean", RunStatus.FINISHED), ("crash", RunStatus.FAILED)]
)
def test_atexit_flushes_and_ends_open_runs(tmp_path: Path, mode: str, status: RunStatus) -> None:
    url = f"sqlite:///{tmp_path / 'loopml.db'}"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url, str(tmp_path / "artifacts"), mode],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == (0 if mode == "clean" else 1), done.stderr
    run_id = done.stdout.strip()
    store = open_store(url)
    try:
        history = store.get_metric_history(run_id, "loss")
        assert [m.step for m in history] == list(range(5000))
        assert store.get_run(run_id).status is status
    finally:
        store.close()
