"""The Meta Ads connector: Marketing API insights of one ad account as normalized rows.

One fetch is one Insights query (or one per `max_days_per_call` chunk): the account's
node or, for an entity filter (entity_id/entity_type), the campaign's, ad set's or ad's
own node (an unknown entity is Meta's error 100, so the widget fails alone); `level`
from the entity breakdown keys or the `level` option; Meta's breakdowns; filters on
breakdown fields and further entity ids pushed down as `filtering`; `time_increment=1`
for daily datasets, the exact `time_range` for period ones. Heavy queries run as
asynchronous report runs, and so does any query Meta refuses as too large.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from metrics_connect import clock
from metrics_connect.connectors.base import (
    AccountInfo,
    Connector,
    ConnectorContext,
    DatasetSpec,
    FetchRequest,
    FetchResult,
    Filter,
    PlannedCall,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.facebook_ads.client import MarketingClient
from metrics_connect.connectors.facebook_ads.datasets import (
    DATASETS,
    ENTITY_FILTERS,
    ENTITY_KEYS,
    HOURLY,
    MAX_DAYS_PER_CALL,
    META_BREAKDOWNS,
)
from metrics_connect.connectors.facebook_ads.errors import TooMuchData
from metrics_connect.connectors.facebook_ads.fields import (
    DAILY_LISTS,
    DAILY_NUMBERS,
    LEVEL_ATTRIBUTES,
    LEVELS,
    NOT_HOURLY,
    PERIOD_LISTS,
    PERIOD_NUMBERS,
    action_rows,
    action_totals,
    flatten,
    number,
)

# Rows per value of a breakdown and per entity of a level, to judge a query's weight.
BREAKDOWN_WEIGHT = {
    "publisher_platform": 4,
    "platform_position": 12,
    "device_platform": 3,
    "impression_device": 6,
    "age": 7,
    "gender": 3,
    "country": 20,
    "region": 40,
    "hourly_stats_aggregated_by_audience_time_zone": 24,
    "hourly_stats_aggregated_by_advertiser_time_zone": 24,
}
DAILY_NUMBER_SET = frozenset({"reach", *DAILY_NUMBERS})
DAILY_LIST_SET = frozenset(DAILY_LISTS)
PERIOD_NUMBER_SET = frozenset(PERIOD_NUMBERS)
PERIOD_LIST_SET = frozenset(PERIOD_LISTS)
LEVEL_WEIGHT = {"account": 1, "campaign": 10, "adset": 30, "ad": 100}
# Above this many expected rows a query runs as an async report run (Meta's advice for
# large queries: synchronous ones time out or fail with "reduce the amount of data").
ASYNC_ROWS = 3000
SNAPSHOT_FIELDS = "amount_spent,balance,spend_cap,currency"


def _values(value: Any) -> list[str]:
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value]
    return [str(value)]


def _utm(url: str | None) -> dict[str, str]:
    if not url:
        return {}
    query = urlsplit(url).query if "?" in url or "://" in url else url
    return {k: v for k, v in parse_qsl(query) if k.startswith("utm_")}


class FacebookAdsConnector(Connector):
    slug: ClassVar[str] = "facebook_ads"
    datasets: ClassVar[dict[str, DatasetSpec]] = DATASETS

    def __init__(self, ctx: ConnectorContext, *, now: Callable[[], datetime] | None = None) -> None:
        super().__init__(ctx)
        # The sync runs at the upstream's clock (the demo replays the sandbox's).
        self.clock: Callable[[], datetime] = now or clock.now
        self.client = MarketingClient(ctx)
        account = ctx.external_id
        self.account_node = account if account.startswith("act_") else f"act_{account}"
        self._attributes: dict[str, dict[str, str]] | None = None

    # --- the query of a fetch ---

    def _query(
        self, request: FetchRequest, start: date, end: date
    ) -> tuple[str, dict[str, str], str]:
        spec = DATASETS[request.dataset]
        node = self.account_node
        node_level = "account"
        filtering: list[dict[str, Any]] = []
        for flt in request.filters:
            self._add_filter(flt, filtering)
            if flt.field in ENTITY_FILTERS and node_level == "account":
                ids = _values(flt.value)
                if flt.operator.upper() in ("EQUAL", "IN") and len(ids) == 1:
                    node, node_level = ids[0], ENTITY_FILTERS[flt.field]
                    filtering.pop()
        options = dict(request.options)
        wanted = [ENTITY_KEYS[b] for b in request.breakdowns if b in ENTITY_KEYS]
        wanted += [options["level"]] if options.get("level") in LEVELS else []
        level = max([node_level, *wanted], key=LEVELS.index)
        breakdowns = [b for b in request.breakdowns if b in META_BREAKDOWNS]
        hourly = any(b in HOURLY for b in breakdowns)
        if spec.name == "insights_daily":
            fields = [
                f
                for f in ("reach", *DAILY_NUMBERS, *DAILY_LISTS, "actions", "action_values")
                if not (hourly and f in NOT_HOURLY)
            ]
        elif spec.name == "actions_daily":
            fields = ["actions", "action_values"]
        else:
            fields = [*PERIOD_NUMBERS, *PERIOD_LISTS]
            if "action_type" in request.breakdowns:
                fields.append("unique_actions")
        for lvl in LEVELS[: LEVELS.index(level) + 1]:
            fields += LEVEL_ATTRIBUTES[lvl]
        params = {
            "fields": ",".join(fields),
            "level": level,
            "time_range": json.dumps({"since": start.isoformat(), "until": end.isoformat()}),
            "time_increment": "1" if spec.kind == "daily" else "all_days",
            "action_breakdowns": "action_type",
            "limit": "500",
        }
        if breakdowns:
            params["breakdowns"] = ",".join(breakdowns)
        if filtering:
            params["filtering"] = json.dumps(filtering)
        return f"{node}/insights", params, level

    @staticmethod
    def _add_filter(flt: Filter, filtering: list[dict[str, Any]]) -> None:
        operator = flt.operator.upper()
        if flt.field in ENTITY_FILTERS:
            field = f"{ENTITY_FILTERS[flt.field]}.id"
        elif flt.field in META_BREAKDOWNS or flt.field == "action_type":
            field = flt.field
        else:
            raise UpstreamError(f"Meta Ads cannot filter insights by {flt.field!r}")
        value: Any = _values(flt.value)
        if operator in ("EQUAL", "NOT_EQUAL", "CONTAIN", "NOT_CONTAIN"):
            value = value[0]
        filtering.append({"field": field, "operator": operator, "value": value})

    @staticmethod
    def _weight(params: dict[str, str], days: int) -> int:
        rows = days if params["time_increment"] == "1" else 1
        for name in filter(None, params.get("breakdowns", "").split(",")):
            rows *= BREAKDOWN_WEIGHT.get(name, 10)
        return rows * LEVEL_WEIGHT[params["level"]]

    def _chunks(self, request: FetchRequest) -> list[tuple[date, date]]:
        if DATASETS[request.dataset].kind != "daily":
            return [(request.start, request.end)]
        out = []
        cursor = request.start
        while cursor <= request.end:
            stop = min(request.end, cursor + timedelta(days=MAX_DAYS_PER_CALL - 1))
            out.append((cursor, stop))
            cursor = stop + timedelta(days=1)
        return out

    # --- the contract ---

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        if request.dataset == "account_snapshot":
            return [PlannedCall("GET", self.account_node, {"fields": SNAPSHOT_FIELDS})]
        calls = []
        for start, end in self._chunks(request):
            path, params, _ = self._query(request, start, end)
            days = (end - start).days + 1
            method = "POST" if self._weight(params, days) > ASYNC_ROWS else "GET"
            calls.append(PlannedCall(method, path, params))
        return calls

    async def fetch(self, request: FetchRequest) -> FetchResult:
        today = self.clock().astimezone(ZoneInfo(self.ctx.timezone)).date()
        result = FetchResult()
        if request.start <= today <= request.end:
            result.incomplete_days.add(today)  # today's figures are still growing
        if request.dataset == "account_snapshot":
            result.rows.append(await self._account_snapshot(today))
            return result
        spec = DATASETS[request.dataset]
        for start, end in self._chunks(request):
            path, params, level = self._query(request, start, end)
            items = await self._insights(path, params, (end - start).days + 1)
            attributes = await self._entity_attributes() if level != "account" else {}
            for item in items:
                result.rows.extend(self._rows(spec, request, item, attributes))
        return result

    async def account_info(self) -> AccountInfo:
        body = await self.client.get(self.account_node, {"fields": "name,timezone_name,currency"})
        return AccountInfo(
            name=str(body.get("name") or self.account_node),
            timezone=str(body.get("timezone_name") or self.ctx.timezone),
            currency=str(body["currency"]) if body.get("currency") else None,
        )

    # --- upstream reads ---

    async def _insights(self, path: str, params: dict[str, str], days: int) -> list[dict[str, Any]]:
        if self._weight(params, days) > ASYNC_ROWS:
            return await self.client.report_run(path, params)
        try:
            return await self.client.paged(path, params)
        except TooMuchData:
            return await self.client.report_run(path, params)

    async def _account_snapshot(self, today: date) -> Row:
        body = await self.client.get(self.account_node, {"fields": SNAPSHOT_FIELDS})
        # The ad account's money fields are strings in the currency's minor unit.
        values: dict[str, Scalar] = {}
        for name in ("amount_spent", "balance", "spend_cap"):
            cents = number(body.get(name))
            if cents is not None:
                values[name] = cents / 100
        cap = values.get("spend_cap")
        if isinstance(cap, float) and cap > 0:
            spent = float(values.get("amount_spent") or 0) + float(values.get("balance") or 0)
            values["available_balance"] = round(cap - spent, 2)
        return Row(day=today, keys={}, values=values)

    async def _entity_attributes(self) -> dict[str, dict[str, str]]:
        """Campaign and ad attributes by id (status, dates, creative URLs and UTMs)."""
        if self._attributes is not None:
            return self._attributes
        found: dict[str, dict[str, str]] = {}
        campaigns = await self.client.paged(
            f"{self.account_node}/campaigns",
            {"fields": "id,effective_status,start_time,stop_time"},
        )
        for c in campaigns:
            found[str(c["id"])] = {
                "status": str(c.get("effective_status") or ""),
                "start_time": str(c.get("start_time") or ""),
                "stop_time": str(c.get("stop_time") or ""),
            }
        ads = await self.client.paged(
            f"{self.account_node}/ads",
            {"fields": "id,created_time,updated_time,creative{object_type,url_tags,link_url}"},
        )
        for ad in ads:
            creative = ad.get("creative") or {}
            link = str(creative.get("link_url") or "")
            attrs = {
                "created_time": str(ad.get("created_time") or ""),
                "updated_time": str(ad.get("updated_time") or ""),
                "creative_media_type": str(creative.get("object_type") or ""),
                "destination_urls": link,
            }
            attrs.update(_utm(link))
            attrs.update({f"{k}_tag": v for k, v in _utm(creative.get("url_tags")).items()})
            found[str(ad["id"])] = {k: v for k, v in attrs.items() if v}
        self._attributes = found
        return found

    # --- normalization ---

    def _rows(
        self,
        spec: DatasetSpec,
        request: FetchRequest,
        item: dict[str, Any],
        attributes: dict[str, dict[str, str]],
    ) -> list[Row]:
        keys: dict[str, str] = {}
        for name in request.breakdowns:
            if name in item:
                keys[name] = str(item[name])
        for lvl in LEVELS:
            for name in LEVEL_ATTRIBUTES[lvl]:
                if item.get(name) not in (None, ""):
                    keys[name] = str(item[name])
        for entity_id in (item.get("campaign_id"), item.get("ad_id")):
            if entity_id is not None:
                keys.update(attributes.get(str(entity_id), {}))
        day = date.fromisoformat(item["date_start"]) if spec.kind == "daily" else None
        if "action_type" in request.breakdowns:
            unique = spec.kind == "period"
            return [
                Row(day=day, keys={**keys, "action_type": action}, values=values)
                for action, values in action_rows(item, unique).items()
            ]
        if spec.name == "insights_period":
            values = flatten(item, PERIOD_NUMBER_SET, PERIOD_LIST_SET)
            values["entities"] = 1
        else:
            values = flatten(item, DAILY_NUMBER_SET, DAILY_LIST_SET)
            if spec.name == "actions_daily":
                # Every action type's total, as a table by action_type totals its rows.
                values.update(action_totals(item))
        return [Row(day=day, keys=keys, values=values)]
