"""The layer contracts in pyproject.toml hold (import-linter), and the public API is pinned."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import loopml

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold() -> None:
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports is not installed; install the [test] extra")
    env_path = str(ROOT / "src")
    result = subprocess.run(
        [exe, "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={"PYTHONPATH": env_path, "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_public_api_is_pinned() -> None:
    assert sorted(loopml.__all__) == sorted(
        ["Client", "Settings", "__version__", "connect", "infer_schema", "start_run", "validate"]
    )
    for name in loopml.__all__:
        assert hasattr(loopml, name), name


def test_importing_loopml_does_no_work(tmp_path: Path) -> None:
    """Importing the package creates no files and opens no store."""
    code = "import loopml, loopml.api, loopml.cli.main, loopml.serving"
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, timeout=60,
                   env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    assert list(tmp_path.iterdir()) == []
