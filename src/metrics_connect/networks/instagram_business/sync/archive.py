"""One Instagram sync run: what the Graph API is about to forget goes to the fact store.

- Stories: listed only for 24 hours. Every run collects the live ones with their insights
  and overwrites the archived copy, so the last run before a story vanishes leaves its
  final values. The run asks to be called again CAPTURE_LEAD before the next story
  expires whose values had not settled (a story in its last CAPTURE_WINDOW has: one
  run captures every story expiring in the hours after it).
  A story that had already expired when the integration was connected is never stored.
  In `final_only` mode (the demo's replay, one archive object across many runs) stories
  are listed every 20 hours and their insights asked once, in the last hours before they
  expire (stories settle well before): the same archive with a fraction of the calls,
  within Meta's hourly call budget.
- Snapshots, once per account day: followers_count/media_count and follower demographics
  (age, gender, city, country, age x gender; each as the API counts it, the margins of
  a joint breakdown differ from the single ones), in one Graph batch: the API serves
  them only as of now.
- Windowed days, weekly: new followers per day and online followers per hour are served
  for the last 30 days only; archiving the last 30 days every 7 keeps every day.
- Account days, every 28 days: daily account metrics (reach, views) are served for 90
  days; archiving the last 28 every 28 keeps every day (each day costs a call: views is
  one operation per day), so older periods answer from the archive.

Days are the network's (Pacific, network.yaml `days.timezone`), in the store as in the
connector.

Each run says when it is due next (`SyncOutcome.next_due`): the next story capture, the
account's next local day (snapshots), the next windowed archive, and at most LIST_EVERY
after this run's listing (a story posted meanwhile is listed before it settles).

Writes go through a sink: the run's fetches written together when it ends (the
scheduler), or a buffer merging many runs' fetches (the demo's replay of thousands of
runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from metrics_connect import clock
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import (
    Connector,
    FetchRequest,
    FetchResult,
    ObjectRow,
    Row,
)
from metrics_connect.connectors.kit.meta_graph.insights import parse_graph_time
from metrics_connect.engine.fact_writes import Fetched
from metrics_connect.engine.facts import FactStore, variant_key
from metrics_connect.networks.instagram_business.connector.hooks import InstagramConnector
from metrics_connect.networks.registry import days_timezone
from metrics_connect.runtime import Runtime
from metrics_connect.sync.models import SyncState
from metrics_connect.sync.service import SyncOutcome, get_states, save_states

STORY_LIFETIME = timedelta(hours=24)
# How long before a story's expiry the scheduler comes back for its final values.
FINAL_CAPTURE_MARGIN = timedelta(seconds=60)
WINDOWED_EVERY = timedelta(days=7)
# Daily datasets the API serves for the last 30 days only.
WINDOWED_DATASETS = ("new_followers_daily", "online_followers_snapshot")
ACCOUNT_DAYS_EVERY = timedelta(days=28)
ACCOUNT_LIVE_DAYS = 90  # Meta keeps account metrics 90 days (account_daily live_days)
AUDIENCE_VARIANTS: tuple[tuple[str, ...], ...] = (
    ("age",),
    ("gender",),
    ("city",),
    ("country",),
    ("age", "gender"),
)
LIST_EVERY = timedelta(hours=20)
# The first run of an account day takes its snapshots, and one of the week its windowed
# days: a run comes for them only when no other came, SNAPSHOT_MARGIN plus a share of
# SNAPSHOT_SPREAD (fixed per integration, so that accounts of one time zone are not all
# due at once) before the day ends, or a day after the windows were due.
SNAPSHOT_MARGIN = timedelta(minutes=5)
SNAPSHOT_SPREAD = timedelta(hours=3)
WINDOWED_SLACK = timedelta(days=1)
# ... but a run that comes anyway (a capture) lists too once this much has passed.
LIST_ALONG = timedelta(hours=14)
# final_only: stories expiring this soon after a capture run are captured with it.
CAPTURE_WINDOW = timedelta(hours=3)
# The scheduler comes for a story's settled values this long before it expires: inside
# its CAPTURE_WINDOW, with hours to spare if the fleet's queue runs late.
CAPTURE_LEAD = timedelta(hours=2)
TASKS = ("snapshots", "windows", "account_days")


def story_expiry(story: dict[str, Any]) -> datetime:
    return parse_graph_time(str(story["timestamp"])).replace(microsecond=0) + STORY_LIFETIME


def fact_store(runtime: Runtime) -> FactStore:
    store = runtime.services.get("facts")
    return store if isinstance(store, FactStore) else FactStore(runtime.db)


class Sink(Protocol):
    async def keep(self, request: FetchRequest, result: FetchResult, fetched_at: datetime) -> None:
        """Archive what one fetch returned."""

    async def flush(self) -> None:
        """Write what was kept and not written yet."""


@dataclass
class StoreSink:
    """Keeps a run's fetches and writes them together on `flush` (one transaction: a
    handful of statements on PostgreSQL, engine/fact_writes.py)."""

    store: FactStore
    integration: CustomerIntegration
    fetched: list[Fetched] = field(default_factory=list)
    fetched_at: datetime | None = None

    async def keep(self, request: FetchRequest, result: FetchResult, fetched_at: datetime) -> None:
        spec = InstagramConnector.datasets[request.dataset]
        self.fetched.append(Fetched(spec, request, result))
        self.fetched_at = fetched_at

    async def flush(self) -> None:
        if self.fetched_at is None:
            return
        await self.store.store_many(
            self.integration.id,
            self.fetched,
            fetched_at=self.fetched_at,
            timezone=days_timezone(self.integration.slug, self.integration.timezone),
            origin="sync",
        )
        self.fetched.clear()
        self.fetched_at = None


@dataclass
class _Pending:
    request: FetchRequest
    fetched_at: datetime
    rows: dict[tuple[date, tuple[tuple[str, str], ...]], Row] = field(default_factory=dict)
    objects: dict[str, ObjectRow] = field(default_factory=dict)


@dataclass
class BufferedSink:
    """Merges many fetches per (dataset, variant), the latest value of a row or object
    winning, and writes them in one fact-store call each on `flush`."""

    store: FactStore
    integration: CustomerIntegration
    pending: dict[tuple[str, str], _Pending] = field(default_factory=dict)

    async def keep(self, request: FetchRequest, result: FetchResult, fetched_at: datetime) -> None:
        key = (request.dataset, variant_key(request))
        entry = self.pending.get(key)
        if entry is None:
            entry = self.pending[key] = _Pending(request, fetched_at)
        start = min(entry.request.start, request.start)
        end = max(entry.request.end, request.end)
        entry.request = FetchRequest(request.dataset, start, end, request.breakdowns)
        entry.fetched_at = fetched_at
        for row in result.rows:
            if row.day is not None:
                entry.rows[(row.day, tuple(sorted(row.keys.items())))] = row
        for obj in result.objects:
            entry.objects[obj.id] = obj

    async def flush(self) -> None:
        for entry in self.pending.values():
            await self.store.store(
                self.integration.id,
                InstagramConnector.datasets[entry.request.dataset],
                entry.request,
                FetchResult(rows=list(entry.rows.values()), objects=list(entry.objects.values())),
                fetched_at=entry.fetched_at,
                timezone=days_timezone(self.integration.slug, self.integration.timezone),
                origin="sync",
            )
        self.pending.clear()


class InstagramArchive:
    """The sync of one Instagram integration; `run(now)` is one scheduled run."""

    def __init__(
        self,
        runtime: Runtime,
        integration: CustomerIntegration,
        connector: InstagramConnector,
        sink: Sink,
        states: dict[str, SyncState],
        *,
        final_only: bool = False,
    ) -> None:
        self.runtime = runtime
        self.integration = integration
        self.connector = connector
        self.sink = sink
        self.states = states
        self.tz = ZoneInfo(days_timezone(integration.slug, integration.timezone or "UTC"))
        self.stored = 0
        self.changed_states: set[str] = set()
        self.final_only = final_only
        # final_only: stories listed and not yet captured, and when they were listed.
        self.pending_stories: dict[str, dict[str, Any]] = {}
        self.captured: dict[str, datetime] = {}  # final_only: id -> expiry
        self.last_listing: datetime | None = None

    @classmethod
    async def load(
        cls,
        runtime: Runtime,
        integration: CustomerIntegration,
        connector: Connector,
        sink: Sink | None = None,
        *,
        final_only: bool = False,
    ) -> InstagramArchive:
        assert isinstance(connector, InstagramConnector)
        states = await get_states(runtime, integration.id, TASKS)
        sink = sink or StoreSink(fact_store(runtime), integration)
        return cls(runtime, integration, connector, sink, states, final_only=final_only)

    async def save_states(self) -> None:
        await save_states(self.runtime, [self.states[t] for t in sorted(self.changed_states)])
        self.changed_states.clear()

    async def run(
        self,
        now: datetime,
        final_margin: timedelta = FINAL_CAPTURE_MARGIN,
        *,
        last: bool = False,
    ) -> SyncOutcome:
        """One run at `now`; `last` (final_only mode): capture every live story now."""
        self.connector.clock = lambda: now
        today = now.astimezone(self.tz).date()
        upcoming = await self._stories(now, today, final_margin, last)
        await self._daily_snapshots(now, today)
        await self._windowed_days(now, today)
        await self._account_days(now, today)
        if not self.final_only:
            upcoming.extend(self._routine_due(now, today))
        return SyncOutcome(
            self.integration.uuid,
            ok=True,
            stored=self.stored,
            next_due=min(upcoming) if upcoming else None,
            usage_percent=self.connector.client.usage_percent,
        )

    def _routine_due(self, now: datetime, today: date) -> list[datetime]:
        """When the snapshots (by the end of the next local day), the windowed days and
        the listing of new stories are due next, unless another run comes first."""
        tomorrow_ends = datetime.combine(today + timedelta(days=2), time(0), self.tz)
        spread = SNAPSHOT_SPREAD * ((self.integration.id * 0.618034) % 1.0)
        due = [tomorrow_ends.astimezone(UTC) - SNAPSHOT_MARGIN - spread, now + LIST_EVERY]
        windows = self.states["windows"].cursor_at
        if windows is not None:
            due.append(windows + WINDOWED_EVERY + WINDOWED_SLACK)
        return due

    async def _keep(self, request: FetchRequest, result: FetchResult, now: datetime) -> None:
        await self.sink.keep(request, result, now)
        self.stored += len(result.rows) + len(result.objects)

    def _mark(self, task: str, now: datetime) -> None:
        state = self.states[task]
        state.last_run_at = state.last_ok_at = state.cursor_at = now
        state.last_error = None
        self.changed_states.add(task)

    async def _stories(
        self, now: datetime, today: date, margin: timedelta, last: bool
    ) -> list[datetime]:
        """Archive stories; when the next run should come (just before an expiry)."""
        request = FetchRequest("stories", today - timedelta(days=2), today)
        connected_at = self.integration.connected_at
        if (
            not self.final_only
            or last
            or self.last_listing is None
            or (now - self.last_listing >= LIST_ALONG)
        ):
            listed = await self.connector.list_stories(request.start, request.end)
            # Gone before the connection: never stored, never counted.
            self.captured = {i: e for i, e in self.captured.items() if e > now}
            self.pending_stories = {
                str(s["id"]): s
                for s in listed
                if story_expiry(s) > connected_at
                and story_expiry(s) > now
                and str(s["id"]) not in self.captured
            }
            self.last_listing = now
        if self.final_only and not last:
            horizon = now + CAPTURE_WINDOW
            due = [s for s in self.pending_stories.values() if story_expiry(s) - margin <= horizon]
        else:
            due = list(self.pending_stories.values())
        if due:
            rows = await self.connector.story_rows(due)
            if not self.final_only:
                rows = _without_vanished(rows, due, clock.now())
            await self._keep(request, rows, now)
        if self.final_only:
            for story in due:
                self.pending_stories.pop(str(story["id"]), None)
                self.captured[str(story["id"])] = story_expiry(story)
        if self.final_only:
            times = [story_expiry(s) - margin for s in self.pending_stories.values()]
        else:
            # Stories in their last CAPTURE_WINDOW were just captured with settled
            # values; the next run comes for the first one still settling.
            times = [
                story_expiry(s) - CAPTURE_LEAD
                for s in self.pending_stories.values()
                if story_expiry(s) - CAPTURE_WINDOW > now
            ]
        if self.final_only and self.last_listing is not None:
            times.append(self.last_listing + LIST_EVERY)
        return [t for t in times if t > now]

    async def _daily_snapshots(self, now: datetime, today: date) -> None:
        last = self.states["snapshots"].cursor_at
        if last is not None and last.astimezone(self.tz).date() >= today:
            return
        requests = [FetchRequest("followers_snapshot", today, today)] + [
            FetchRequest("audience_snapshot", today, today, breakdowns=b) for b in AUDIENCE_VARIANTS
        ]
        for request, result in zip(
            requests, await self.connector.fetch_in_one_batch(requests), strict=True
        ):
            if result.rows:  # a refused variant is not archived as "nothing"
                await self._keep(request, result, now)
        self._mark("snapshots", now)

    async def _windowed_days(self, now: datetime, today: date) -> None:
        last = self.states["windows"].cursor_at
        if last is not None and now - last < WINDOWED_EVERY:
            return
        start, end = today - timedelta(days=30), today - timedelta(days=1)
        for dataset in WINDOWED_DATASETS:
            request = FetchRequest(dataset, start, end)
            result = await self.connector.fetch(request)
            await self._keep(request, result, now)
            if dataset == "online_followers_snapshot":
                # The same hourly rows answer widgets by day and by hour of day.
                by_hour = FetchRequest(dataset, start, end, breakdowns=("hour",))
                await self._keep(by_hour, result, now)
        self._mark("windows", now)

    async def _account_days(self, now: datetime, today: date) -> None:
        last = self.states["account_days"].cursor_at
        if last is not None and now - last < ACCOUNT_DAYS_EVERY:
            return
        # Every day still served on the first run, then from the last run's day on: a
        # late run still catches up on the days in between.
        oldest = today - timedelta(days=ACCOUNT_LIVE_DAYS - 1)
        start = oldest if last is None else max(oldest, last.astimezone(self.tz).date())
        request = FetchRequest("account_daily", start, today - timedelta(days=1))
        await self._keep(request, await self.connector.fetch(request), now)
        self._mark("account_days", now)


def _without_vanished(
    rows: FetchResult, asked: list[dict[str, Any]], answered_at: datetime
) -> FetchResult:
    """The stories that expired while their insights were asked come back without them
    (the API no longer has the story): left out, so that the values an earlier run
    archived stay instead of being overwritten by none. Found racing the expiry on the
    fleet bench's fast clock; at real speed the window is the calls' latency."""
    listed = {str(s["id"]): s for s in asked}

    def vanished(obj: ObjectRow) -> bool:
        story = listed.get(obj.id)
        if story is None or story_expiry(story) > answered_at:
            return False
        # Its values are only the listing's own numbers: no insight came back.
        return set(obj.values) <= {
            k for k, v in story.items() if isinstance(v, int | float) and not isinstance(v, bool)
        }

    kept = [o for o in rows.objects if not vanished(o)]
    if len(kept) == len(rows.objects):
        return rows
    return replace(rows, objects=kept)


async def sync_instagram(
    runtime: Runtime,
    integration: CustomerIntegration,
    connector: Connector,
    now: datetime,
) -> SyncOutcome:
    """The scheduler's entry point (named by this network's network.yaml `sync`)."""
    archive = await InstagramArchive.load(runtime, integration, connector)
    try:
        outcome = await archive.run(now)
    finally:
        # What the run fetched before a failure is kept, as each fetch's was before.
        await archive.sink.flush()
    await archive.save_states()
    return outcome
