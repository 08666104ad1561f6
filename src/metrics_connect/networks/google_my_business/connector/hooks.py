"""Google Business Profile on the Google kit: what streams.yaml cannot say.

The Performance API takes `dailyMetrics` once per metric (a repeated query parameter)
and the range as dotted date parts; it answers a time series per metric whose dated
values omit `value` for zero (or not yet known) days. The reviews listing's summary
fields (totalReviewCount, averageRating) are the location's "now" figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date
from typing import Any, ClassVar, Literal

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    ObjectRow,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.google.client import GoogleClient
from metrics_connect.connectors.kit.spec import Requester, Stream, streams_of
from metrics_connect.connectors.kit.windows import moment
from metrics_connect.networks.google_my_business.hosts import api_host

STREAMS = streams_of(__file__)


def location_names(external_id: str) -> tuple[str, str]:
    """(the v4 name accounts/{a}/locations/{l}, the Performance API's locations/{l})."""
    parts = external_id.split("/")
    if len(parts) != 4 or parts[0] != "accounts" or parts[2] != "locations" or "" in parts:
        raise UpstreamError(f"not a Business Profile location name: {external_id}")
    return external_id, f"locations/{parts[3]}"


class BusinessProfileClient(GoogleClient):
    """The Google client, taking absolute URLs too: reviews and the location's title live
    on other hosts than the Performance API (hosts.py)."""

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else super().url(path)


class GoogleBusinessProfileConnector(KitConnector):
    slug: ClassVar[str] = "google_my_business"
    streams = STREAMS
    client_class = BusinessProfileClient
    client: BusinessProfileClient

    def host(self, api: Literal["reviews", "information"]) -> str:
        return api_host(self.ctx.settings, api, performance=self.ctx.base_url)

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        account_location, location = location_names(self.ctx.external_id)
        return super().variables(request, stream) | {
            "location": location,
            "account_location": account_location,
            "reviews_host": self.host("reviews"),
            "metrics": ",".join(self.daily_metrics(stream)),
        }

    @staticmethod
    def daily_metrics(stream: Stream) -> list[str]:
        """The DailyMetrics a dataset asks for: its fields, or those its rows split."""
        split: dict[str, Any] = stream.extra.get("split") or {}
        return list(split) or list(stream.fields)

    def window_variables(
        self, request: FetchRequest, requester: Requester, first: date, last: date
    ) -> dict[str, str]:
        return {
            "start_year": str(first.year),
            "start_month": str(first.month),
            "start_day": str(first.day),
            "end_year": str(last.year),
            "end_month": str(last.month),
            "end_day": str(last.day),
        }

    def plan(self, request: FetchRequest) -> list[Call]:
        # `dailyMetrics` repeats once per metric; explain shows them comma-joined.
        calls = []
        for call in super().plan(request):
            metrics = call.params.get("dailyMetrics")
            if metrics is None:
                calls.append(call)
                continue
            params: dict[str, Any] = {**call.params, "dailyMetrics": metrics.split(",")}
            calls.append(replace(call, params=params, summary=dict(call.params)))
        return calls

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        if self.stream(request).kind == "snapshot":
            return self._review_summary(answers)
        if self.stream(request).kind == "period":
            return self._keywords(request, answers)
        split: dict[str, dict[str, str]] = self.stream(request).extra.get("split") or {}
        # Per day and breakdown key, the fields' sums (split rows collapse the breakdowns
        # the request does not ask for).
        sums: dict[tuple[date, tuple[tuple[str, str], ...]], dict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        for answer in answers:
            for multi in answer.records:
                for series in multi.get("dailyMetricTimeSeries") or []:
                    metric = str(series.get("dailyMetric"))
                    dated = (series.get("timeSeries") or {}).get("datedValues") or []
                    for point in dated:
                        parts = point.get("date") or {}
                        day = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
                        value = int(point.get("value") or 0)
                        if metric in split:
                            keys = tuple((b, split[metric][b]) for b in request.breakdowns)
                            sums[(day, keys)]["impressions"] += value
                        else:
                            sums[(day, ())][metric] += value
        rows = [
            Row(day=day, keys=dict(keys), values=dict(values))
            for (day, keys), values in sorted(sums.items())
        ]
        return FetchResult(rows=rows)

    def object_row(
        self, request: FetchRequest, item: dict[str, Any], values: dict[str, Scalar]
    ) -> ObjectRow:
        """A post; its update time written like the kit writes its creation time."""
        row = super().object_row(request, item, values)
        updated = row.attributes.get("updated_at")
        if isinstance(updated, str):
            row.attributes["updated_at"] = moment(updated).strftime("%Y-%m-%d %H:%M:%S")
        return row

    def _keywords(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        """Impressions per keyword; without the keyword breakdown, their sum. A keyword
        below Google's threshold has no number and is left out."""
        sums: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        for answer in answers:
            for record in answer.records:
                value = (record.get("insightsValue") or {}).get("value")
                if value is None:
                    continue
                keys = (("keyword", str(record.get("searchKeyword"))),)
                sums[keys if "keyword" in request.breakdowns else ()] += int(value)
        rows = [
            Row(day=None, keys=dict(keys), values={"keyword_impressions": total})
            for keys, total in sorted(sums.items())
        ]
        return FetchResult(rows=rows)

    def _review_summary(self, answers: list[Answer]) -> FetchResult:
        rows = []
        for answer in answers:
            body = answer.body if isinstance(answer.body, dict) else {}
            count = int(body.get("totalReviewCount") or 0)
            values: dict[str, Scalar] = {"total_review_count": count}
            if count and body.get("averageRating") is not None:
                values["average_rating"] = float(body["averageRating"])
            rows.append(Row(day=self.today(), keys={}, values=values))
        return FetchResult(rows=rows)

    async def account_info(self) -> AccountInfo:
        """The location's title (Business Information API locations.get); its days are
        the integration's time zone (the location's, chosen at connect)."""
        _, location = location_names(self.ctx.external_id)
        url = f"{self.host('information')}/v1/{location}"
        body = await self.client.get(url, {"readMask": "title"})
        name = str(body.get("title") or location) if isinstance(body, dict) else location
        return AccountInfo(name=name, timezone=self.ctx.timezone, currency=None)
