"""Shared fixtures: an isolated Freehold home, a sample repository with a failing test, and a
way to run the real `freehold` command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TEST_CALC = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def result(self) -> dict[str, Any]:
        """The JSON result object (the last line of stdout)."""
        return json.loads(self.stdout.strip().splitlines()[-1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment minus anything Freehold reads, with a private home and config."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FREEHOLD_", "XDG_"))}
    clean.update(
        FREEHOLD_HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        FREEHOLD_RETRY_BACKOFF="0.01",
        FREEHOLD_TIMEOUT="30",
    )
    return clean


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(TEST_CALC)
    return root


def write(root: Path, rel: str, content: str | bytes) -> Path:
    """Write one file below `root`, making its directories."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        write(root, rel, content)


def run_freehold(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120, stdin: str | None = None) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "freehold", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
        input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
