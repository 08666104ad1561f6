"""Pinterest Ads on the JSON REST kit: what streams.yaml cannot say.

The columns of a call (every counted column of the dataset, money as micros, and the
averages whose summable parts we recover), the report bodies (level by the breakdowns
asked, granularity DAY, or TOTAL for the period dataset), the period dataset's one call
for the exact period, and the rows: micros to the account's currency, entity names and
objectives as row keys.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any, ClassVar

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    Row,
    Scalar,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.executor import KitConnector, render_call
from metrics_connect.connectors.kit.spec import Requester, Stream, streams_of
from metrics_connect.connectors.kit.windows import bounds
from metrics_connect.networks.pinterest_ads.connector.client import PinterestAdsClient

STREAMS = streams_of(__file__)
EXTRA = STREAMS.extra
MONEY: frozenset[str] = frozenset(EXTRA["money"])
PARTS: dict[str, list[str]] = EXTRA["parts"]
LEVELS: dict[str, str] = EXTRA["levels"]
ENTITY_COLUMNS: dict[str, list[str]] = EXTRA["entity_columns"]
RESULTS: dict[str, str] = EXTRA["results"]
DERIVED = frozenset(p for parts in PARTS.values() for p in parts[:1]) | {
    "video_length",
    "results",
    "campaign_objective_type",
}
# Row keys: the entity columns, lower-cased (CAMPAIGN_NAME -> campaign_name).
KEY_COLUMNS = (
    "CAMPAIGN_ID",
    "CAMPAIGN_NAME",
    "CAMPAIGN_OBJECTIVE_TYPE",
    "AD_GROUP_ID",
    "AD_GROUP_NAME",
    "AD_ID",
    "AD_NAME",
    "KEYWORD_ID",
    "KEYWORD",
)
SYNC_DAYS, REPORT_DAYS, REPORT_BACK = 90, 186, 914


def column(field: str) -> str:
    return f"{field.upper()}_IN_MICRO_DOLLAR" if field in MONEY else field.upper()


class PinterestAdsConnector(KitConnector):
    slug: ClassVar[str] = "pinterest_ads"
    streams = STREAMS
    client_class = PinterestAdsClient
    client: PinterestAdsClient

    def columns(self, stream: Stream) -> list[str]:
        asked = [column(f) for f in stream.fields if f not in DERIVED]
        if "video_length" in stream.fields:
            asked.append("VIDEO_LENGTH")
        return asked + [c for c, (part, _) in PARTS.items() if part in stream.fields]

    def level(self, request: FetchRequest) -> str:
        levels = {LEVELS[b] for b in request.breakdowns if b in LEVELS}
        return next(
            (lvl for lvl in ("KEYWORD", "AD", "AD_GROUP", "CAMPAIGN") if lvl in levels),
            "ADVERTISER",
        )

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        granularity = "TOTAL" if stream.kind == "period" else "DAY"
        return super().variables(request, stream) | {
            "columns": ",".join(self.columns(stream)),
            "granularity": granularity,
        }

    def plan(self, request: FetchRequest) -> list[Call]:
        stream = self.stream(request)
        calls = super().plan(request) if stream.kind != "period" else self.period_call(request)
        return [self.with_body(request, stream, c) if c.method == "POST" else c for c in calls]

    def period_call(self, request: FetchRequest) -> list[Call]:
        """One call for the exact period: synchronous within the last 90 days, a report
        within 914 days and 186 days long; none beyond (reach is never summed)."""
        today, days = self.today(), (request.end - request.start).days + 1
        if days <= SYNC_DAYS and request.start >= today - timedelta(days=SYNC_DAYS):
            name = "analytics"
        elif days <= REPORT_DAYS and request.start >= today - timedelta(days=REPORT_BACK):
            name = "report"
        else:
            return []
        requester = self.streams.requester(request.dataset, name)
        whole = requester.window.model_copy(update={"max_days": None, "serves_last_days": None})
        single = requester.model_copy(update={"window": whole})
        stream = self.stream(request).model_copy(update={"requesters": (single,)})
        return self._planned(request, stream)

    def _planned(self, request: FetchRequest, stream: Stream) -> list[Call]:
        requester: Requester = stream.requesters[0]
        variables = {
            **self.variables(request, stream),
            **bounds(request.start, request.end, requester.window, self.tz),
        }
        return [render_call(requester, variables, (request.start, request.end))]

    def with_body(self, request: FetchRequest, stream: Stream, call: Call) -> Call:
        assert call.window is not None
        level = self.level(request)
        body: dict[str, Any] = {
            "start_date": call.window[0].isoformat(),
            "end_date": call.window[1].isoformat(),
            "granularity": "TOTAL" if stream.kind == "period" else "DAY",
            "level": level,
            "columns": ENTITY_COLUMNS.get(level, []) + self.columns(stream),
            "click_window_days": 30,
            "engagement_window_days": 30,
            "view_window_days": 1,
            "conversion_report_time": "TIME_OF_AD_ACTION",
            "report_format": "JSON",
        }
        summary = {
            "level": level,
            "granularity": body["granularity"],
            "dates": f"{body['start_date']}..{body['end_date']}",
        }
        return replace(call, body=body, summary=summary)

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        daily = self.stream(request).kind == "daily"
        rows: list[Row] = []
        for answer in answers:
            for record in answer.records:
                day = date.fromisoformat(str(record["DATE"])[:10]) if daily else None
                keys = {c.lower(): str(record[c]) for c in KEY_COLUMNS if record.get(c)}
                rows.append(Row(day=day, keys=keys, values=self.values(request, record)))
        return FetchResult(rows=rows)

    def values(self, request: FetchRequest, record: dict[str, Any]) -> dict[str, Scalar]:
        stream = self.stream(request)
        out: dict[str, Scalar] = {}
        for field in stream.fields:
            raw = record.get(column(field)) if field not in DERIVED else None
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                out[field] = raw / 1_000_000 if field in MONEY else raw
        for average, (part, count) in PARTS.items():
            mean, base = record.get(average), out.get(count)
            if part not in stream.fields or not isinstance(mean, int | float) or not mean:
                continue
            if isinstance(base, int | float) and base:
                out[part] = base / mean if part == "showcase_sessions" else mean * base
        if "video_length" in stream.fields and isinstance(record.get("VIDEO_LENGTH"), int | float):
            out["video_length"] = record["VIDEO_LENGTH"]
        counted_as = RESULTS.get(str(record.get("CAMPAIGN_OBJECTIVE_TYPE")))
        if "results" in stream.fields and counted_as in out:
            out["results"] = out[counted_as]
        return out

    async def account_info(self) -> AccountInfo:
        """The ad account (GET /v5/ad_accounts/{id}): its name and currency; its days are UTC."""
        body = await self.client.request(
            "GET", f"/{self.version}/ad_accounts/{self.ctx.external_id}", {}
        )
        return AccountInfo(
            name=str(body.get("name") or self.ctx.external_id),
            timezone="UTC",
            currency=str(body.get("currency") or "") or None,
        )
