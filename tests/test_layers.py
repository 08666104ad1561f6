"""The parts keep their direction: the engine, connectors and networks never reach up into
the HTTP layer (api/), so they run the same in a request, a job or the sync."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "metrics_connect"
IMPORT = re.compile(r"^\s*(?:from|import)\s+metrics_connect\.(\w+)", re.MULTILINE)


def imported_parts(folder: Path) -> dict[str, set[str]]:
    """For each file under folder, the top-level parts of metrics_connect it imports."""
    return {
        str(path.relative_to(PACKAGE)): set(IMPORT.findall(path.read_text(encoding="utf-8")))
        for path in folder.rglob("*.py")
    }


@pytest.mark.parametrize("part", ["engine", "connectors", "networks", "accounts", "sync"])
def test_lower_parts_import_nothing_from_the_api(part: str) -> None:
    offenders = [f for f, parts in imported_parts(PACKAGE / part).items() if "api" in parts]
    assert offenders == []


def test_the_check_sees_an_import(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text("from metrics_connect.api.errors import ApiError\n")
    assert IMPORT.findall((tmp_path / "x.py").read_text()) == ["api"]
