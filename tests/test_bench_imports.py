"""Every benchmark module still imports: the benchmarks reach into emulators and kits
that refactors move, and they run only on demand (bench/run.py), not in this suite."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
MODULES = sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__init__")


def test_there_are_benchmarks() -> None:
    assert "run" in MODULES


@pytest.mark.parametrize("module", MODULES)
def test_the_benchmark_imports(module: str) -> None:
    importlib.import_module(f"bench.{module}")
