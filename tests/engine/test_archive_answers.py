"""What the network forgets is answered from the sync's archive: stories of past days,
follower counts and audience snapshots taken on earlier days."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.context import connector_for
from metrics_connect.networks.instagram_business.sync.archive import sync_instagram
from metrics_connect.sync.service import load_integration

from .conftest import NOW, Connected, SharedClock
from .test_instagram_numbers import TODAY, local_day, raw


async def test_past_stories_and_followers_come_from_the_archive(
    connected: Connected, shared_clock: SharedClock
) -> None:
    runtime = connected.runtime
    async with runtime.db.session() as session:
        # Connected four days ago: the sync has been archiving since.
        await session.execute(
            update(CustomerIntegration)
            .where(CustomerIntegration.id == connected.integration_id)
            .values(connected_at=NOW - timedelta(days=4))
        )
        await session.commit()
    integration = await load_integration(runtime, connected.integration_uuid)
    assert integration is not None
    # The sync ran every 12 hours for the last three days (as the scheduler would).
    moments = [NOW - timedelta(hours=12 * n) for n in range(6, 0, -1)]
    for moment in moments:
        shared_clock.set(moment)
        connector = connector_for(runtime, integration, now=lambda m=moment: m)
        await sync_instagram(runtime, integration, connector, moment)
    shared_clock.set(NOW)
    sandbox = raw(connected)
    day = TODAY - timedelta(days=2)
    posted = [
        s
        for s in sandbox.stories_posted(moments[0] - timedelta(hours=12), NOW)
        if local_day(sandbox, s) == day
    ]
    assert posted
    widgets = [
        {
            "id": "replies",
            "reference_key": "ig:replies",
            "component": "number_v1",
            "metrics": ["replies"],
            "dimensions": ["stories"],
        },
        {
            "id": "count",
            "reference_key": "ig:stories_count",
            "component": "number_v1",
            "metrics": ["count"],
            "dimensions": ["stories"],
        },
        {
            "id": "followers",
            "reference_key": "ig:followers_count",
            "component": "number_v1",
            "metrics": ["followers"],
        },
    ]
    calls = connected.calls
    data = await connected.get_data(connected.body(day.isoformat(), day.isoformat(), widgets))
    assert connected.calls == calls  # a past day: the network is not asked at all
    assert data["count"].get("values") == len(posted), data
    # Each story as the network reported it at the last sync that still saw it live.
    last_seen = [max(m for m in moments if s.is_live(m)) for s in posted]
    assert data["replies"]["values"] == sum(
        s.insights_at(seen)["replies"] for s, seen in zip(posted, last_seen, strict=True)
    )
    # The follower count archived that day: the sync snapshots once per account day,
    # at its first run of the day.
    taken = [m for m in moments if sandbox.local_day(m) == day]
    assert data["followers"]["values"] == sandbox.followers_count(taken[0])


async def test_account_days_older_than_the_live_window_come_from_the_archive(
    connected: Connected, shared_clock: SharedClock
) -> None:
    """Instagram keeps account metrics 90 days: the weekly sync archives the last 30, so
    a day 100 days old answers from the archive, with the network's figure."""
    runtime = connected.runtime
    async with runtime.db.session() as session:
        await session.execute(
            update(CustomerIntegration)
            .where(CustomerIntegration.id == connected.integration_id)
            .values(connected_at=NOW - timedelta(days=130))
        )
        await session.commit()
    integration = await load_integration(runtime, connected.integration_uuid)
    assert integration is not None
    for weeks in range(18, 0, -1):  # a run a week for the last 18 weeks
        moment = NOW - timedelta(weeks=weeks)
        shared_clock.set(moment)
        connector = connector_for(runtime, integration, now=lambda m=moment: m)
        await sync_instagram(runtime, integration, connector, moment)
    shared_clock.set(NOW)
    sandbox = raw(connected)
    first = sandbox.today() - timedelta(days=105)
    last = first + timedelta(days=6)
    widget = {
        "id": "reach",
        "reference_key": "ig:reach_over_time",
        "component": "chart_v1",
        "chart_type": "line",
        "metrics": ["reach"],
        "dimensions": ["date"],
    }
    calls = connected.calls
    data = await connected.get_data(connected.body(first.isoformat(), last.isoformat(), [widget]))
    assert connected.calls == calls  # older than the network keeps: not asked
    values = data["reach"]["values"]
    expected = [sandbox.daily_value("reach", first + timedelta(days=i)) for i in range(7)]
    assert _series(values) == expected, data


def _series(values: object) -> list[int]:
    """The numbers of a one-metric line chart's points, in day order."""
    assert isinstance(values, list)
    points = values[0]["data"] if values and isinstance(values[0], dict) else values
    return [p["value"] if isinstance(p, dict) else p for p in points]
