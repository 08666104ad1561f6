"""Search Console on the Google kit: what streams.yaml cannot say.

The searchAnalytics.query body (daily datasets group by `date` plus the breakdowns, the
period one asks for the exact period), the property percent-encoded in the path, and
the rows: each carries `position_impressions` = position x impressions, so that the
catalog's average position is the impression-weighted one over any days and rows.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, ClassVar
from urllib.parse import quote

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.google.client import GoogleClient
from metrics_connect.connectors.kit.spec import Stream, streams_of

STREAMS = streams_of(__file__)
PACIFIC = "America/Los_Angeles"


class SearchConsoleConnector(KitConnector):
    slug: ClassVar[str] = "search_console"
    streams = STREAMS
    client_class = GoogleClient
    client: GoogleClient

    @property
    def site_path(self) -> str:
        return f"/webmasters/v3/sites/{quote(self.ctx.external_id, safe='')}"

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        return super().variables(request, stream) | {"site": quote(self.ctx.external_id, safe="")}

    def plan(self, request: FetchRequest) -> list[Call]:
        body = self.query_body(request)
        summary = {
            "dateRange": f"{body['startDate']}..{body['endDate']}",
            "dimensions": ",".join(body["dimensions"]),
            "type": body["type"],
            "dataState": body["dataState"],
        }
        return [replace(c, body=body, summary=summary) for c in super().plan(request)]

    def query_body(self, request: FetchRequest) -> dict[str, Any]:
        stream = self.stream(request)
        self.refuse_unknown_breakdowns(request)
        if request.filters:
            raise UpstreamError("Search Console datasets take no pushdown filters")
        return {
            "startDate": request.start.isoformat(),
            "endDate": request.end.isoformat(),
            "dimensions": (["date"] if stream.kind == "daily" else []) + list(request.breakdowns),
            "type": "web",
            "dataState": "all",
            "aggregationType": "auto",
        }

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        daily = self.stream(request).kind == "daily"
        rows: list[Row] = []
        for answer in answers:
            dimensions = answer.call.body["dimensions"]
            for record in answer.records:
                keys = dict(zip(dimensions, record.get("keys") or [], strict=True))
                day = date.fromisoformat(keys.pop("date")) if daily else None
                impressions = int(record.get("impressions") or 0)
                values: dict[str, Scalar] = {
                    "clicks": int(record.get("clicks") or 0),
                    "impressions": impressions,
                    "position_impressions": float(record.get("position") or 0.0) * impressions,
                }
                rows.append(Row(day=day, keys=keys, values=values))
        return FetchResult(rows=rows)

    async def account_info(self) -> AccountInfo:
        """The property (sites.get also proves the login may still read it)."""
        site = await self.client.request("GET", self.site_path, {})
        name = str(site.get("siteUrl") or self.ctx.external_id)
        return AccountInfo(name=name.removeprefix("sc-domain:"), timezone=PACIFIC)
