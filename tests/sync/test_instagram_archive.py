"""The Instagram sync archives what the API forgets, checked against the emulator's truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from metrics_connect import clock
from metrics_connect.connectors.base import FetchRequest, FetchResult, ObjectRow, Row
from metrics_connect.connectors.context import connector_for
from metrics_connect.engine.days import account_today
from metrics_connect.engine.fact_writes import Fetched, plan_write, store_days
from metrics_connect.engine.facts import FactStore, variant_key
from metrics_connect.engine.tables import fact_coverage, fact_objects, fact_rows
from metrics_connect.networks.instagram_business.connector.hooks import InstagramConnector
from metrics_connect.networks.instagram_business.emulator.model import MediaItem
from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork
from metrics_connect.networks.instagram_business.sync.archive import InstagramArchive
from metrics_connect.networks.instagram_business.sync.demo import prepare_demo
from metrics_connect.networks.registry import days_timezone
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import load_integration, run_sync, sync_integration

from .conftest import NOW

DAYS = (NOW.date() - timedelta(days=3), NOW.date() + timedelta(days=2))


async def archived_stories(
    runtime: Runtime, integration_id: int, start: date, end: date
) -> list[ObjectRow]:
    snapshot = await FactStore(runtime.db).load(
        integration_id, object_keys=[("stories", "-")], start=start, end=end
    )
    return snapshot.objects.get(("stories", "-"), [])


async def archived_rows(
    runtime: Runtime, integration_id: int, dataset: str, variant: str, start: date, end: date
) -> list[Row]:
    snapshot = await FactStore(runtime.db).load(
        integration_id, day_keys=[(dataset, variant)], start=start, end=end
    )
    return snapshot.rows.get((dataset, variant), [])


def archived_values(story: MediaItem, replay_end: datetime = NOW) -> dict[str, int]:
    """What the archive must hold: the final insights of a story that expired (the
    emulator's stories settle hours before they expire, and the sync captures them in
    their last hours), the values at the end of the replay for one still live."""
    assert story.expires_at is not None
    return story.final if story.expires_at <= replay_end else story.insights_at(replay_end)


async def test_replay_archives_every_story_with_its_last_values(
    runtime: Runtime, network: InstagramSandboxNetwork, connect_instagram: Callable[..., Any]
) -> None:
    connected_at = NOW - timedelta(days=6)
    integration = await connect_instagram(connected_at)
    await prepare_demo(runtime, integration.uuid, network)

    truth = network.sandbox
    expected = [
        s
        for s in truth.stories_posted(connected_at - timedelta(hours=24), NOW)
        if s.expires_at is not None and s.expires_at > connected_at
    ]
    expired_before = [
        s
        for s in truth.stories_posted(connected_at - timedelta(hours=72), connected_at)
        if s.expires_at is not None and s.expires_at <= connected_at
    ]
    assert len(expected) > 10 and expired_before
    stored = await archived_stories(
        runtime, integration.id, truth.local_day(connected_at) - timedelta(days=2), truth.today()
    )
    by_id = {o.id: o for o in stored}
    assert set(by_id) == {s.id for s in expected}
    assert not {s.id for s in expired_before} & set(by_id)  # expired before connected_at
    for story in expected:
        values = by_id[story.id].values
        reported = archived_values(story)
        for metric in ("replies", "reach", "views", "shares", "follows"):
            assert values[metric] == reported[metric], (story.id, metric)
    # the sandbox clock is back where it was
    assert network.controls.clock.now() == NOW


async def test_replay_is_incremental(
    runtime: Runtime, network: InstagramSandboxNetwork, connect_instagram: Callable[..., Any]
) -> None:
    integration = await connect_instagram(NOW - timedelta(days=3))
    await prepare_demo(runtime, integration.uuid, network)
    first_calls = network.controls.calls.total
    network.controls.calls.reset()
    await prepare_demo(runtime, integration.uuid, network)
    # caught up from the cursor only: one run, at now, that snapshots nothing new
    assert first_calls > 50
    assert network.controls.calls.by_endpoint["stories"] == 1
    assert "user" not in network.controls.calls.by_endpoint
    live = network.sandbox.live_stories(NOW)
    assert network.controls.calls.total <= 2 + 2 * len(live)

    network.controls.clock.set(NOW + timedelta(days=2))
    network.controls.calls.reset()
    await prepare_demo(runtime, integration.uuid, network)
    truth = network.sandbox
    stored = await archived_stories(
        runtime, integration.id, truth.today() - timedelta(days=3), truth.today()
    )
    assert {s.id for s in truth.stories_posted(NOW, NOW + timedelta(days=1))} <= {
        o.id for o in stored
    }


async def test_snapshots_are_taken_once_per_account_day(
    runtime: Runtime, network: InstagramSandboxNetwork, connect_instagram: Callable[..., Any]
) -> None:
    integration = await connect_instagram(NOW - timedelta(hours=1))
    truth = network.sandbox
    today = truth.today()

    outcome = await run_sync(runtime, integration, NOW)
    assert outcome.ok and outcome.next_due is not None  # comes back before a story expires
    followers = await archived_rows(
        runtime, integration.id, "followers_snapshot", "-", today, today
    )
    assert [r.values["followers_count"] for r in followers] == [truth.followers_count(NOW)]
    gender = await archived_rows(
        runtime, integration.id, "audience_snapshot", '{"b":["gender"]}', today, today
    )
    assert {r.keys["gender"]: r.values["followers"] for r in gender} == truth.demographics("gender")
    age_gender = await archived_rows(
        runtime, integration.id, "audience_snapshot", '{"b":["age","gender"]}', today, today
    )
    assert sum(int(r.values["followers"] or 0) for r in age_gender) == sum(
        truth.demographics("gender").values()
    )
    new_followers = await archived_rows(
        runtime, integration.id, "new_followers_daily", "-", today - timedelta(days=40), today
    )
    assert {r.day for r in new_followers} == {today - timedelta(days=i) for i in range(1, 31)}
    for row in new_followers:
        assert row.values["follower_count"] == truth.daily_value("follower_count", row.day)
    online = await archived_rows(
        runtime, integration.id, "online_followers_snapshot", "-", today - timedelta(days=1), today
    )
    yesterday = truth.online_followers(today - timedelta(days=1))
    assert {int(r.keys["hour"]): r.values["online_followers"] for r in online} == yesterday
    by_hour = await archived_rows(
        runtime,
        integration.id,
        "online_followers_snapshot",
        '{"b":["hour"]}',
        today - timedelta(days=1),
        today,
    )
    assert {int(r.keys["hour"]): r.values["online_followers"] for r in by_hour} == yesterday

    # later the same day: no new snapshot; the next day: one more
    network.controls.clock.set(NOW + timedelta(hours=3))
    network.controls.calls.reset()
    await run_sync(runtime, integration, NOW + timedelta(hours=3))
    assert "user" not in network.controls.calls.by_endpoint
    tomorrow_instant = NOW + timedelta(days=1)
    network.controls.clock.set(tomorrow_instant)
    await run_sync(runtime, integration, tomorrow_instant)
    rows = await archived_rows(
        runtime, integration.id, "followers_snapshot", "-", today, today + timedelta(days=1)
    )
    assert sorted(r.day for r in rows) == [today, today + timedelta(days=1)]
    assert rows[-1].values["followers_count"] == truth.followers_count(tomorrow_instant) or rows[
        0
    ].values["followers_count"] == truth.followers_count(tomorrow_instant)


async def test_expired_token_flips_the_integration_to_expired(
    runtime: Runtime, network: InstagramSandboxNetwork, connect_instagram: Callable[..., Any]
) -> None:
    token = "sandbox-soon-expired"
    integration = await connect_instagram(NOW - timedelta(hours=1), token=token)
    network.controls.switches.expired_tokens.add(token)
    outcome = await sync_integration(runtime, integration.uuid)
    assert not outcome.ok and outcome.error == "integration_expired"
    reloaded = await load_integration(runtime, integration.uuid)
    assert reloaded is not None and reloaded.status == "expired"
    assert reloaded.status_reason and token not in reloaded.status_reason
    # an expired integration is not synced again
    network.controls.calls.reset()
    await sync_integration(runtime, integration.uuid)
    assert network.controls.calls.total == 0


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def test_replay_with_a_dead_token_stops_and_flags_the_integration(
    runtime: Runtime, network: InstagramSandboxNetwork, connect_instagram: Callable[..., Any]
) -> None:
    token = "sandbox-dead-token"
    integration = await connect_instagram(NOW - timedelta(days=2), token=token)
    network.controls.switches.expired_tokens.add(token)
    await prepare_demo(runtime, integration.uuid, network)  # no exception: the demo goes on
    reloaded = await load_integration(runtime, integration.uuid)
    assert reloaded is not None and reloaded.status == "expired"
    assert network.controls.clock.now() == NOW


@dataclass
class OneByOneSink:
    """The reference archive: each fetch's days deleted and written again by their own
    statements as soon as fetched (as every run wrote before its writes were batched)."""

    store: FactStore
    integration_id: int

    async def keep(self, request: FetchRequest, result: FetchResult, fetched_at: datetime) -> None:
        spec = InstagramConnector.datasets[request.dataset]
        write = plan_write(
            Fetched(spec, request, result),
            variant_key(request),
            account_today(fetched_at, days_timezone("instagram_business", "UTC")),
        )
        if write is not None:
            async with self.store.db.engine.begin() as conn:
                await store_days(conn, self.integration_id, write, fetched_at)

    async def flush(self) -> None:
        return None


async def test_scheduled_runs_archive_what_writing_each_fetch_archives(
    runtime: Runtime, network: InstagramSandboxNetwork, connect_instagram: Callable[..., Any]
) -> None:
    connected_at = NOW - timedelta(hours=1)
    scheduled = await connect_instagram(connected_at)
    reference = await connect_instagram(connected_at, token="sandbox-reference-archive")
    store = FactStore(runtime.db)
    # A first run, captures, the next days' snapshots and a week later the windows again.
    instants = [NOW + timedelta(hours=h) for h in (0, 5, 11, 23, 30, 47, 75, 24 * 7 + 2)]
    for at in instants:
        network.controls.clock.set(at)
        outcome = await run_sync(runtime, scheduled, at)
        assert outcome.ok
        archive = await InstagramArchive.load(
            runtime, reference, connector_for(runtime, reference), OneByOneSink(store, reference.id)
        )
        assert (await archive.run(at)).ok
        await archive.save_states()
    kept, expected = (
        await stored_archive(runtime, scheduled.id),
        await stored_archive(runtime, reference.id),
    )
    assert kept == expected
    assert len(kept["objects"]) > 10 and len(kept["rows"]) > 1000


async def stored_archive(runtime: Runtime, integration_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row, object and covered day of the integration (ids left out)."""
    tables = {
        "rows": (fact_rows, ("dataset", "variant", "day", "keys", "vals")),
        "objects": (
            fact_objects,
            ("dataset", "variant", "object_id", "day", "attributes", "vals", "fetched_at"),
        ),
        "coverage": (
            fact_coverage,
            ("dataset", "variant", "day", "fetched_at", "settled", "notes"),
        ),
    }
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with runtime.db.engine.connect() as conn:
        for name, (table, columns) in tables.items():
            result = await conn.execute(
                select(*(table.c[c] for c in columns)).where(
                    table.c.integration_id == integration_id
                )
            )
            found[name] = sorted(tuple(r) for r in result)
    return found


class ExpiringTransport(httpx.AsyncBaseTransport):
    """The emulator, whose clock jumps to `after` once the stories are listed: a story
    expires between its listing and its insights."""

    def __init__(self, network: InstagramSandboxNetwork) -> None:
        self.inner = httpx.ASGITransport(app=network.app)
        self.network = network
        self.after: datetime | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.after is not None and request.url.path.endswith("/stories"):
            self.network.controls.clock.set(self.after)
        return response


async def test_a_story_expiring_during_a_run_keeps_its_archived_values(
    runtime: Runtime, network: InstagramSandboxNetwork, connect_instagram: Callable[..., Any]
) -> None:
    transport = ExpiringTransport(network)
    runtime.upstream_transports["instagram_business"] = transport
    clock.set_clock(network.controls.clock.now)  # the service's clock is the emulator's
    try:
        integration = await connect_instagram(NOW - timedelta(hours=1))
        story = min(network.sandbox.live_stories(NOW), key=lambda s: s.expires_at or NOW)
        assert story.expires_at is not None
        early = story.expires_at - timedelta(hours=2)
        network.controls.clock.set(early)
        assert (await run_sync(runtime, integration, early)).ok
        before = {o.id: o.values for o in await archived_stories(runtime, integration.id, *DAYS)}
        assert before[story.id]["reach"] == story.final["reach"]

        late = story.expires_at - timedelta(seconds=10)
        network.controls.clock.set(late)
        transport.after = story.expires_at + timedelta(seconds=1)
        assert (await run_sync(runtime, integration, late)).ok
    finally:
        clock.set_clock(None)
    after = {o.id: o.values for o in await archived_stories(runtime, integration.id, *DAYS)}
    assert after[story.id] == before[story.id]
