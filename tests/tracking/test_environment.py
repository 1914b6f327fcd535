from __future__ import annotations

import subprocess
from pathlib import Path

from loopml.tracking import capture_environment, git_commit


def test_git_commit_inside_a_repository(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    git("init", "-q")
    assert git_commit(tmp_path) is None  # no commit yet
    (tmp_path / "a.txt").write_text("a")
    git("add", "a.txt")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "first")
    assert git_commit(tmp_path) == git("rev-parse", "HEAD")


def test_git_commit_outside_a_repository_is_none(tmp_path: Path) -> None:
    assert git_commit(tmp_path) is None


def test_git_commit_of_missing_folder_is_none(tmp_path: Path) -> None:
    assert git_commit(tmp_path / "nope") is None


def test_environment_names_python_and_installed_packages() -> None:
    import numpy
    import pandas

    env = capture_environment()
    assert env["python"].count(".") == 2
    assert env["implementation"]
    assert env["packages"]["numpy"] == numpy.__version__
    assert env["packages"]["pandas"] == pandas.__version__
    assert "not-a-real-package" not in env["packages"]
