"""Account listing helpers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import httpx
import pytest

from metrics_connect.connect.discovery import get_json, zone_from_offset


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


async def test_a_listing_call_keeps_the_urls_query_and_sends_the_familys_headers() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"elements": []})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        url = "http://127.0.0.1/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR"
        assert await get_json(http, url, "T", headers={"LinkedIn-Version": "202607"}) == {
            "elements": []
        }
        await get_json(http, "http://127.0.0.1/me", "T", {"fields": "id"})
    assert seen[0].url.query == b"q=roleAssignee&role=ADMINISTRATOR"
    assert seen[0].headers["authorization"] == "Bearer T"
    assert seen[0].headers["linkedin-version"] == "202607"
    assert seen[1].url.query == b"fields=id"
