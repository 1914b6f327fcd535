"""``loopml loop run`` holds the model's lease while it runs and gives it back on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import loopml
from loopml.settings import Settings

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_loop_run_holds_the_lease_and_releases_it_on_sigterm(tmp_path: Path) -> None:
    settings = Settings.for_home(tmp_path / "home")
    policy = tmp_path / "policy.yaml"
    policy.write_text("model: flights\npipeline: p.yaml\n")
    (tmp_path / "p.yaml").write_text("# the pipeline file must exist; no cycle gets to use it\n")
    env = {**os.environ, **settings.as_env(), "PYTHONPATH": SRC}
    process = subprocess.Popen(
        [sys.executable, "-m", "loopml", "loop", "run", str(policy), "--interval", "0.2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    with loopml.connect(settings) as client:
        try:
            deadline = time.monotonic() + 60
            while client.store.get_lease("flights") is None:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "loop run never took the lease"
                time.sleep(0.1)
            lease = client.store.get_lease("flights")
            assert lease is not None and f":{process.pid}:" in lease.holder
            # a one-shot cycle meanwhile is refused: one controller per model
            once = subprocess.run(
                [sys.executable, "-m", "loopml", "loop", "once", str(policy)],
                env=env, capture_output=True, text=True, timeout=120, check=False,
            )
            assert once.returncode == 1 and "looked after by controller" in once.stderr
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, output
        assert b"lease released" in output
        assert client.store.get_lease("flights") is None
