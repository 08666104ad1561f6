"""Search Console connector: datasets answered by searchAnalytics.query.

One query per fetch for the whole period (the API has no window limit), web search,
`dataState: all` (the fresh days the Search Console UI shows, refetched until final).
Daily datasets group by `date` plus the breakdowns; the period dataset asks for the exact
period. Each row carries `position_impressions` = position x impressions, so that the
catalog's average position is the impression-weighted one over any days and rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from metrics_connect import clock
from metrics_connect.connectors.base import (
    AccountInfo,
    Connector,
    ConnectorContext,
    DatasetSpec,
    FetchRequest,
    FetchResult,
    PlannedCall,
    Row,
    UpstreamError,
)
from metrics_connect.networks.search_console.connector.client import SearchConsoleClient

PACIFIC = "America/Los_Angeles"
FIELDS = ("clicks", "impressions", "position_impressions")
BREAKDOWNS = ("query", "page", "country", "device")
# Final data ends two to three days before today: today and the two days before it are
# still fresh (they change); a day is settled four whole days after it ended.
FRESH_DAYS = 3
SETTLE_AFTER_DAYS = 4
# 16 months kept: 485 days is the shortest 16 months (February included).
LIVE_DAYS = 485

DATASETS: dict[str, DatasetSpec] = {
    "performance": DatasetSpec(
        name="performance",
        kind="daily",
        fields=FIELDS,
        breakdowns=BREAKDOWNS,
        settle_after_days=SETTLE_AFTER_DAYS,
        live_days=LIVE_DAYS,
        description="Web search clicks, impressions and position x impressions per day.",
    ),
    "performance_period": DatasetSpec(
        name="performance_period",
        kind="period",
        fields=FIELDS,
        breakdowns=BREAKDOWNS,
        settle_after_days=SETTLE_AFTER_DAYS,
        live_days=LIVE_DAYS,
        description="The same for the exact period, by query or page (tables).",
    ),
}


class SearchConsoleConnector(Connector):
    slug: ClassVar[str] = "search_console"
    datasets: ClassVar[dict[str, DatasetSpec]] = DATASETS

    def __init__(self, ctx: ConnectorContext) -> None:
        super().__init__(ctx)
        self.client = SearchConsoleClient(ctx)

    async def fetch(self, request: FetchRequest) -> FetchResult:
        spec = self._spec(request)
        body = self.query_body(request)
        rows: list[Row] = []
        for raw in await self.client.query_rows(body):
            keys = dict(zip(body["dimensions"], raw.get("keys") or [], strict=True))
            day = date.fromisoformat(keys.pop("date")) if spec.kind == "daily" else None
            impressions = int(raw.get("impressions") or 0)
            values: dict[str, int | float | str | None] = {
                "clicks": int(raw.get("clicks") or 0),
                "impressions": impressions,
                "position_impressions": float(raw.get("position") or 0.0) * impressions,
            }
            rows.append(Row(day=day, keys=keys, values=values))
        return FetchResult(rows=rows, incomplete_days=self._incomplete_days(request))

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        body = self.query_body(request)
        params = {
            "dateRange": f"{body['startDate']}..{body['endDate']}",
            "dimensions": ",".join(body["dimensions"]),
            "type": body["type"],
            "dataState": body["dataState"],
        }
        return [PlannedCall("POST", self.client.query_path, params)]

    async def account_info(self) -> AccountInfo:
        """The property (sites.get also proves the login may still read it)."""
        site = await self.client.call("GET", self.client.site_path, None)
        name = str(site.get("siteUrl") or self.ctx.external_id)
        return AccountInfo(name=name.removeprefix("sc-domain:"), timezone=PACIFIC)

    def query_body(self, request: FetchRequest) -> dict[str, Any]:
        spec = self._spec(request)
        if request.filters:
            raise UpstreamError("Search Console datasets take no pushdown filters")
        dimensions = (["date"] if spec.kind == "daily" else []) + list(request.breakdowns)
        return {
            "startDate": request.start.isoformat(),
            "endDate": request.end.isoformat(),
            "dimensions": dimensions,
            "type": "web",
            "dataState": "all",
            "aggregationType": "auto",
        }

    def _spec(self, request: FetchRequest) -> DatasetSpec:
        spec = DATASETS.get(request.dataset)
        if spec is None:
            raise UpstreamError(f"unknown Search Console dataset {request.dataset!r}")
        unknown = set(request.breakdowns) - set(spec.breakdowns)
        if unknown:
            raise UpstreamError(
                f"dataset {request.dataset} cannot break down by {', '.join(sorted(unknown))}"
            )
        return spec

    def _incomplete_days(self, request: FetchRequest) -> set[date]:
        today = local_today()
        first_fresh = today - timedelta(days=FRESH_DAYS - 1)
        start = max(request.start, first_fresh)
        return {start + timedelta(days=i) for i in range((request.end - start).days + 1)}


def local_today() -> date:
    now: datetime = clock.now()
    return now.astimezone(ZoneInfo(PACIFIC)).date()
