"""What each emulator serves stays what it served before the move onto the sandbox kit."""

from __future__ import annotations

import json

import pytest

from tests.sandbox.fingerprint import NETWORKS, SNAPSHOT, fingerprint


@pytest.mark.parametrize("slug", sorted(NETWORKS))
def test_emulator_serves_the_snapshot_data(slug: str) -> None:
    expected = json.loads(SNAPSHOT.read_text())[slug]
    actual = fingerprint(slug)
    changed = sorted(k for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k))
    assert not changed, f"{len(changed)} answers changed, e.g. {changed[:10]}"
