"""Account listing helpers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from metrics_connect.connect.discovery import zone_from_offset


@pytest.mark.parametrize(
    ("offset", "zone"),
    [(-3, "Etc/GMT+3"), (-3.0, "Etc/GMT+3"), (1, "Etc/GMT-1"), (0, "UTC"), (12, "Etc/GMT-12")],
)
def test_graph_user_offsets_become_etc_zones(offset: float, zone: str) -> None:
    assert zone_from_offset(offset) == zone
    ZoneInfo(zone)  # a real IANA name


@pytest.mark.parametrize("offset", [5.5, None, "x", 15])
def test_offsets_without_an_etc_zone_give_none(offset: object) -> None:
    assert zone_from_offset(offset) is None
