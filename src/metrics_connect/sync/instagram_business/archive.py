"""One Instagram sync run: what the Graph API is about to forget goes to the fact store.

- Stories: listed only for 24 hours. Every run collects the live ones with their insights
  and overwrites the archived copy, so the last run before a story vanishes leaves its
  final values. The run asks to be called again just before the next story expires.
  A story that had already expired when the integration was connected is never stored.
- Snapshots, once per account day: followers_count/media_count and follower demographics
  (age, gender, city, country, age x gender): the API serves them only as of now.
- Windowed days, weekly: new followers per day and online followers per hour are served
  for the last 30 days only; archiving the last 30 days every 7 keeps every day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, FetchRequest, FetchResult, ObjectRow
from metrics_connect.connectors.instagram_business.connector import InstagramConnector
from metrics_connect.connectors.instagram_business.datasets import DATASETS
from metrics_connect.engine.facts import FactStore
from metrics_connect.runtime import Runtime
from metrics_connect.sync.service import SyncOutcome, get_state, save_state

STORY_LIFETIME = timedelta(hours=24)
# How long before a story's expiry the scheduler comes back for its final values.
FINAL_CAPTURE_MARGIN = timedelta(seconds=60)
WINDOWED_EVERY = timedelta(days=7)
AUDIENCE_VARIANTS: tuple[tuple[str, ...], ...] = (
    ("age",),
    ("gender",),
    ("city",),
    ("country",),
    ("age", "gender"),
)


def story_created_at(story: ObjectRow) -> datetime:
    return datetime.strptime(str(story.attributes["created_at"]), "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=UTC
    )


def fact_store(runtime: Runtime) -> FactStore:
    store = runtime.services.get("facts")
    return store if isinstance(store, FactStore) else FactStore(runtime.db)


async def sync_instagram(
    runtime: Runtime,
    integration: CustomerIntegration,
    connector: Connector,
    now: datetime,
    *,
    final_margin: timedelta = FINAL_CAPTURE_MARGIN,
) -> SyncOutcome:
    assert isinstance(connector, InstagramConnector)
    connector.clock = lambda: now
    archive = _Archive(runtime, integration, connector, now)
    expiries = await archive.stories()
    await archive.daily_snapshots()
    await archive.windowed_days()
    upcoming = [e - final_margin for e in expiries if e - final_margin > now]
    return SyncOutcome(
        integration.uuid,
        ok=True,
        stored=archive.stored,
        next_due=min(upcoming) if upcoming else None,
    )


class _Archive:
    def __init__(
        self,
        runtime: Runtime,
        integration: CustomerIntegration,
        connector: InstagramConnector,
        now: datetime,
    ) -> None:
        self.runtime = runtime
        self.integration = integration
        self.connector = connector
        self.now = now
        self.today = now.astimezone(ZoneInfo(integration.timezone or "UTC")).date()
        self.store = fact_store(runtime)
        self.stored = 0

    async def _keep(self, request: FetchRequest, result: FetchResult) -> None:
        await self.store.store(
            self.integration.id,
            DATASETS[request.dataset],
            request,
            result,
            fetched_at=self.now,
            timezone=self.integration.timezone,
            origin="sync",
        )
        self.stored += len(result.rows) + len(result.objects)

    async def stories(self) -> list[datetime]:
        """Archive the live stories; their expiry instants."""
        request = FetchRequest("stories", self.today - timedelta(days=2), self.today)
        result = await self.connector.fetch(request)
        connected_at = self.integration.connected_at
        live = [s for s in result.objects if story_created_at(s) + STORY_LIFETIME > connected_at]
        if live:
            await self._keep(request, FetchResult(objects=live))
        return [story_created_at(s) + STORY_LIFETIME for s in live]

    async def daily_snapshots(self) -> None:
        state = await get_state(self.runtime, self.integration.id, "snapshots")
        if (
            state.cursor_at is not None
            and state.cursor_at.astimezone(ZoneInfo(self.integration.timezone or "UTC")).date()
            >= self.today
        ):
            return
        state.last_run_at = self.now
        requests = [FetchRequest("followers_snapshot", self.today, self.today)] + [
            FetchRequest("audience_snapshot", self.today, self.today, breakdowns=b)
            for b in AUDIENCE_VARIANTS
        ]
        for request in requests:
            await self._keep(request, await self.connector.fetch(request))
        state.cursor_at = self.now
        state.last_ok_at = self.now
        state.last_error = None
        await save_state(self.runtime, state)

    async def windowed_days(self) -> None:
        state = await get_state(self.runtime, self.integration.id, "windows")
        if state.cursor_at is not None and self.now - state.cursor_at < WINDOWED_EVERY:
            return
        state.last_run_at = self.now
        start, end = self.today - timedelta(days=30), self.today - timedelta(days=1)
        for dataset in ("new_followers_daily", "online_followers_snapshot"):
            request = FetchRequest(dataset, start, end)
            await self._keep(request, await self.connector.fetch(request))
        state.cursor_at = self.now
        state.last_ok_at = self.now
        state.last_error = None
        await save_state(self.runtime, state)
