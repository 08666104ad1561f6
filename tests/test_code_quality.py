"""The code stays formatted, linted and typed: ruff and mypy run as part of the suite.

mypy takes about a minute of one core; the suite runs on one core too. So when the mypy
test is selected, `tests/conftest.py` starts mypy as soon as collection ends and moves the
test last: it then reads an answer mypy found on the other core meanwhile."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_is_clean() -> None:
    r = _run(str(BIN / "ruff"), "check", "src", "tests", "bench")
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format_is_clean() -> None:
    r = _run(str(BIN / "ruff"), "format", "--check", "src", "tests", "bench")
    assert r.returncode == 0, r.stdout + r.stderr


_mypy: subprocess.Popen[str] | None = None


def start_mypy() -> None:
    global _mypy
    if _mypy is None:
        _mypy = subprocess.Popen(
            [str(BIN / "mypy"), "src"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def test_mypy_is_clean_on_src() -> None:
    start_mypy()
    assert _mypy is not None
    output, _ = _mypy.communicate(timeout=600)
    assert _mypy.returncode == 0, output
