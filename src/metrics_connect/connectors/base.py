"""The contract between the engine and every network's connector.

A connector knows one network's HTTP API and nothing of widgets. It declares its
datasets (what rows it can produce, how they settle) and answers `fetch` with
normalized rows. The engine plans, caches in the fact store, aggregates and renders.

Row shapes by dataset kind:
- "daily":    one `Row` per (day, breakdown key combination); `day` set.
- "period":   `Row`s for exactly [start, end] (period-unique counts: reach, users);
              `day` is None. The engine caches them per exact period.
- "snapshot": like "daily", but the network only serves *now*; the sync part
              archives one snapshot per day, and `fetch` returns today's.
- "objects":  `ObjectRow`s (posts, stories, ads) whose `day` (account time zone)
              falls in [start, end], with their attributes and metric values.
- "records":  objects the network keeps and changes (deals, contacts, calls, orders):
              not fetched by days but synced incrementally by `fetch_records` (each
              API's "modified since" search or cursor), upserted by id in the records
              table, and aggregated at query time by whichever date field a metric
              names (created, closed, stage entered...). docs/records.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Literal

import httpx

DatasetKind = Literal["daily", "period", "snapshot", "objects", "records"]
Scalar = int | float | str | None

# Notes a connector puts on a FetchResult whose numbers are not exact (docs/engine.md):
# a period-unique figure assembled from parts or not served for the asked span;
# GA4's sampled answers (metadata.samplingMetadatas), thresholded answers
# (metadata.subjectToThresholding) and its "(other)" row (too many distinct values).
NOTE_APPROXIMATE = "approximate"
NOTE_SAMPLED = "sampled"
NOTE_THRESHOLDED = "thresholded"
NOTE_OTHER_ROW = "other_row"


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: DatasetKind
    fields: tuple[str, ...]
    # Breakdown keys a fetch may ask for (each requested subset is its own "variant").
    breakdowns: tuple[str, ...] = ()
    # A day is settled (never refetched) once this many whole days have passed since
    # it ended in the account's time zone. Meta restates 28 days, say.
    settle_after_days: int = 2
    # Data for unsettled days (or periods that touch them) is reused this long.
    fresh_seconds: int = 3600
    # The network's largest window per call; the connector chunks by it.
    max_days_per_call: int | None = None
    # How far back the network still serves this data (None: no limit). Older days
    # come only from the archive that the sync part keeps.
    live_days: int | None = None
    description: str = ""
    # Objects datasets fetched by listing (posts): (dataset, field) of a daily snapshot
    # that counts them all time, e.g. ("followers_snapshot", "media_count"). Lets
    # ?explain=true estimate the list pages and batches before listing.
    counted_by: tuple[str, str] | None = None
    # The network itself applies a filter on any of `breakdowns` sent with the request
    # (Meta's `filtering`, GA4's dimensionFilter), counting unique figures over what
    # the filter keeps. The engine relies on it where summing rows would overcount.
    filters_breakdowns_upstream: bool = False
    # Records datasets: the fields holding instants (ISO 8601 or epoch milliseconds) that
    # a metric may count or sum by (`date_field` in the catalog), the field naming a
    # money field's currency, and the money fields (a sum over two currencies is refused).
    record_dates: tuple[str, ...] = ()
    currency_field: str | None = None
    money_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filter:
    """A pushdown filter: field operator value (operators: EQUAL, IN, NOT_IN, CONTAIN...)."""

    field: str
    operator: str
    value: Any


@dataclass(frozen=True)
class FetchRequest:
    dataset: str
    start: date
    end: date  # inclusive
    breakdowns: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    # Extra, dataset-specific knobs (e.g. {"level": "campaign"}). Part of the cache key.
    options: tuple[tuple[str, str], ...] = ()


@dataclass
class Row:
    day: date | None
    keys: dict[str, str]
    values: dict[str, Scalar]


@dataclass
class ObjectRow:
    id: str
    day: date
    attributes: dict[str, Any]
    values: dict[str, Scalar]


@dataclass
class RecordRow:
    """One record as the network has it now (its latest values): `fields` holds every
    normalized field, dates included (ISO 8601 text or epoch milliseconds)."""

    id: str
    fields: dict[str, Any]


@dataclass
class RecordPage:
    """One step of an incremental records sync (`Connector.fetch_records`).

    `records` changed since the cursor given; `deleted_ids` were deleted, archived or
    merged into another (gone from every figure); `cursor` is where the next step starts
    (stored after each page, so an interrupted sync resumes); `more` says whether to
    ask again at once (False: the sync is current)."""

    records: list[RecordRow] = field(default_factory=list)
    deleted_ids: list[str] = field(default_factory=list)
    cursor: str | None = None
    more: bool = False
    # A network without "modified since" nor a listing of deletions (RD Station CRM v1)
    # lists every live record at each sync: on the last page (`more` False), True says
    # this sync's pages listed them all, so a stored record they did not list is deleted.
    listed_all: bool = False


@dataclass
class FetchResult:
    rows: list[Row] = field(default_factory=list)
    objects: list[ObjectRow] = field(default_factory=list)
    # Days of the request the network could not answer yet (e.g. today): not cached
    # as settled, whatever their age.
    incomplete_days: set[date] = field(default_factory=set)
    # Why the numbers are not exact, as the network said (NOTES): for the whole result,
    # and for some of its days only (one chunk of a longer request was sampled, say).
    # The store keeps them with the days or period; the widgets that read those show them.
    notes: set[str] = field(default_factory=set)
    day_notes: dict[date, set[str]] = field(default_factory=dict)

    def notes_of(self, day: date) -> set[str]:
        """The notes that hold for one day of the result."""
        return self.notes | self.day_notes.get(day, set())

    def all_notes(self) -> set[str]:
        """The notes of the result as one figure (a period's rows)."""
        found = set(self.notes)
        for extra in self.day_notes.values():
            found |= extra
        return found


@dataclass(frozen=True)
class PlannedCall:
    """One upstream HTTP call a fetch would make (for ?explain=true and call budgets)."""

    method: str
    path: str
    params: dict[str, str]
    # The call's existence depends on what a listing returns (a page, a batch of the
    # listed objects): its count is an estimate (see ObjectEstimate).
    estimated: bool = False


@dataclass(frozen=True)
class ObjectEstimate:
    """What the store suggests about an objects fetch over [start, end] before listing:
    the basis of ?explain=true's page and batch counts. A network listing newest first
    walks past `newer` objects, then the `in_span` ones, then stops on the first older
    one (if `older`) or runs out."""

    in_span: int | None  # None: nothing to go by
    newer: int = 0
    older: bool = True
    basis: str = "none"  # "stored_objects", "<dataset>.<field>" (a count), "none"


@dataclass(frozen=True)
class AccountInfo:
    name: str
    timezone: str
    currency: str | None = None


@dataclass
class ConnectorContext:
    """What a connector instance needs; built by the engine per integration."""

    integration_uuid: str
    external_id: str
    credentials: dict[str, Any]
    timezone: str
    http: httpx.AsyncClient
    base_url: str
    settings: Any  # metrics_connect.settings.Settings (kept loose to avoid cycles)


# --- Errors. Connectors raise these; the engine maps them to widget error codes. ---


class UpstreamError(Exception):
    """The network refused or failed; the widget fails with `code`."""

    code = "upstream_error"

    def __init__(self, message: str, *, upstream_code: str | int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.upstream_code = upstream_code


class UpstreamRateLimited(UpstreamError):
    """Over the network's limits even after backing off within the retry budget."""

    code = "upstream_rate_limited"

    def __init__(
        self,
        message: str,
        *,
        upstream_code: str | int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, upstream_code=upstream_code)
        self.retry_after = retry_after


class UpstreamTransient(UpstreamError):
    """A 5xx, timeout or connection failure: worth retrying within the budget."""

    code = "upstream_error"


class IntegrationExpired(UpstreamError):
    """The token is invalid or expired: the integration becomes `expired`."""

    code = "integration_expired"


class IntegrationRevoked(UpstreamError):
    """A permission the integration needs was withdrawn: the integration becomes `revoked`."""

    code = "integration_revoked"


class DataNotAvailable(UpstreamError):
    """The network does not have (or no longer has) this data."""

    code = "data_not_available"


class Connector(ABC):
    slug: ClassVar[str]
    datasets: ClassVar[dict[str, DatasetSpec]]

    def __init__(self, ctx: ConnectorContext) -> None:
        self.ctx = ctx

    @abstractmethod
    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Rows for the request, chunked and paged as the network requires."""

    @abstractmethod
    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        """The upstream calls `fetch` would make, without making them."""

    def plan_object_calls(
        self, request: FetchRequest, estimate: ObjectEstimate
    ) -> list[PlannedCall]:
        """`plan_calls` for an objects dataset given what the store suggests about it;
        connectors that page override it (their calls then say `estimated`)."""
        return self.plan_calls(request)

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        """Records datasets: the records changed since `cursor` (None: a first sync,
        which backfills everything), the ids deleted since, and the next cursor."""
        raise NotImplementedError(f"{type(self).__name__} has no records datasets")

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        """The first calls `fetch_records` makes from `cursor` (for ?explain=true): their
        number depends on how much changed, so they are estimated."""
        return []

    @abstractmethod
    async def account_info(self) -> AccountInfo:
        """The connected account's name, time zone and currency."""

    # --- shared calls: one upstream call answering several fetches ---

    def shared_groups(self, requests: Sequence[FetchRequest]) -> list[tuple[int, ...]]:
        """The fetches this connector answers together, by shared calls: groups of
        indexes into `requests`, each index in exactly one group. The same requests must
        give the same groups (explain shows them), and a group's members alone must
        give that group again. By default every fetch is its own group."""
        return [(i,) for i in range(len(requests))]

    def plan_shared_calls(self, requests: Sequence[FetchRequest]) -> list[PlannedCall]:
        """The calls `fetch_shared` makes for one group (follow-ups aside)."""
        return [call for request in requests for call in self.plan_calls(request)]

    async def fetch_shared(
        self, requests: Sequence[FetchRequest]
    ) -> list[FetchResult | UpstreamError]:
        """One group's results, in order: each request's rows, or the error that left it
        unanswered. By default each request is fetched alone."""
        results: list[FetchResult | UpstreamError] = []
        for request in requests:
            try:
                results.append(await self.fetch(request))
            except UpstreamError as exc:
                results.append(exc)
        return results

    def quota_spent(self) -> dict[str, float]:
        """What the network's quota counted for this connector's calls so far, by unit
        (GA4's property tokens: {"tokens": 57}); empty where the network does not say."""
        return {}
