"""Replaying the sandbox clock like the sync does: stories seen while live, with their
final insights, add up to the account's own replies; expired ones are out of reach."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx

from metrics_connect.networks.instagram_business.emulator.model import InstagramSandbox
from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork
from tests.sandbox.instagram.conftest import IG, get


async def test_polling_live_stories_recovers_every_story_and_its_final_replies(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    days = [date(2024, 3, 4) + timedelta(days=i) for i in range(3)]
    start = sandbox.day_start(days[0])
    end = sandbox.day_end(days[-1]) + timedelta(hours=24)
    archive: dict[str, dict[str, int]] = {}
    at = start
    while at <= end:
        network.controls.clock.set(at)
        live = (await get(graph, f"/v21.0/{IG}/stories", fields="id,timestamp")).json()["data"]
        for story in live:
            r = await get(graph, f"/v21.0/{story['id']}/insights", metric="reach,replies")
            archive[story["id"]] = {d["name"]: d["values"][0]["value"] for d in r.json()["data"]}
        at += timedelta(hours=3)
    posted = sandbox.stories_posted(start, sandbox.day_end(days[-1]))
    assert posted
    assert {s.id for s in posted} <= set(archive)
    for story in posted:
        assert archive[story.id] == {k: story.final[k] for k in ("reach", "replies")}
    for day in days:
        ids = {s.id for s in sandbox.stories_on(day)}
        assert sum(archive[i]["replies"] for i in ids) == sandbox.daily_value("replies", day)


async def test_stories_from_before_a_connection_are_unreachable(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    connected = datetime(2024, 3, 10, 12, tzinfo=UTC)
    network.controls.clock.set(connected)
    earlier = sandbox.stories_posted(connected - timedelta(days=3), connected - timedelta(days=1))
    assert earlier
    live = (await get(graph, f"/v21.0/{IG}/stories")).json()["data"]
    assert not {s.id for s in earlier} & {s["id"] for s in live}
    for story in earlier:
        r = await get(graph, f"/v21.0/{story.id}/insights", metric="replies")
        assert r.json()["error"]["error_subcode"] == 33
