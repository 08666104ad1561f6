"""When the network fails: stale data still answers, missing data fails its widgets only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from metrics_connect.settings import Settings

from .conftest import GRAPH_URL, NOW, Connected, SharedClock
from .test_call_economy import media_widgets, reach_chart


@pytest.fixture
def ig_settings(sqlite_url: str, settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(
        sqlite_url, instagram_api_base_url=GRAPH_URL, upstream_retry_budget_seconds=0.3
    )


async def test_stale_data_answers_when_its_refresh_fails(
    connected: Connected, shared_clock: SharedClock
) -> None:
    recent = connected.body("2026-11-14", "2026-11-20", [reach_chart()])
    before = await connected.get_data(recent)
    # Two hours later the unsettled days are stale, and the network answers only 5xx.
    shared_clock.set(NOW + timedelta(hours=2))
    connected.network.controls.switches.server_error_ratio = 1.0
    body = connected.body("2026-11-14", "2026-11-20", [reach_chart(), *media_widgets()[:1]])
    calls = connected.calls
    data = await connected.get_data(body)
    assert connected.calls > calls  # the refresh and the missing media were attempted
    assert data["chart"] == before["chart"]  # stale, still the last figures the network gave
    assert data["likes"]["error"]["code"] == "upstream_error"
    assert data["likes"]["error"]["message"]


async def test_rate_limited_network_fails_with_its_code(connected: Connected) -> None:
    connected.network.controls.switches.rate_limit_ratio = 1.0
    data = await connected.get_data(
        connected.body("2026-10-01", "2026-10-05", [reach_chart(), *media_widgets()[:1]])
    )
    assert data["chart"]["error"]["code"] == "upstream_rate_limited"
    assert data["likes"]["error"]["code"] == "upstream_rate_limited"
    # Nothing was stored: once the limit lifts, the same request answers.
    connected.network.controls.switches.rate_limit_ratio = 0.0
    healed = await connected.get_data(
        connected.body("2026-10-01", "2026-10-05", [reach_chart(), *media_widgets()[:1]])
    )
    assert len(healed["chart"]["labels"]) == 5
    assert isinstance(healed["likes"]["values"], int)
