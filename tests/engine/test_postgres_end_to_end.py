"""The engine end to end on each database backend (PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from metrics_connect.settings import Settings

from .conftest import GRAPH_URL, Connected
from .test_call_economy import media_widgets, reach_chart


@pytest.fixture
def ig_settings(db_url: str, settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(db_url, instagram_api_base_url=GRAPH_URL)


async def test_dashboard_cold_then_warm_on_each_backend(connected: Connected) -> None:
    widgets = [reach_chart(), *media_widgets()]
    body = connected.body(
        "2026-10-01",
        "2026-10-20",
        widgets,
        comparison_start="2026-09-11",
        comparison_end="2026-09-30",
    )
    cold = await connected.get_data(body)
    assert len(cold["chart"]["labels"]) == 20
    assert isinstance(cold["likes"]["values"], int) and cold["likes"]["values"] > 0
    calls = connected.calls
    overlapping = connected.body("2026-10-05", "2026-10-25", widgets)
    await connected.get_data(overlapping)
    assert connected.calls > calls  # Oct 21-25 only
    calls = connected.calls
    assert await connected.get_data(body) == cold
    assert connected.calls == calls
