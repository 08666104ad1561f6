"""docs/sandbox.md lists every network's emulator: its slug, settings field and docs page."""

from __future__ import annotations

from pathlib import Path

from metrics_connect.networks.registry import networks

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_network_has_a_row_in_the_sandbox_table() -> None:
    table = (DOCS / "sandbox.md").read_text()
    missing = [slug for slug in networks() if f"| `{slug}` |" not in table]
    assert not missing, f"docs/sandbox.md's table lacks {missing}"
