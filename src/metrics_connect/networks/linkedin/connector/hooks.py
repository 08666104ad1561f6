"""LinkedIn Pages on the Rest.li kit: what streams.yaml cannot say.

The organization URN in the query, each window's `timeIntervals` (epoch milliseconds of
the UTC midnights, end exclusive, DAY granularity), the answers' nested statistics as
rows, the current followers of one facet, and the posts: listed newest first until the
period's first day, then their lifetime statistics 20 posts a call (`shares=List(...)`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    ObjectEstimate,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.executor import render_call
from metrics_connect.connectors.kit.restli import (
    RestliClient,
    RestliConnector,
    epoch_millis,
    leaf,
    restli_list,
)
from metrics_connect.connectors.kit.spec import Requester, Stream, dig, streams_of

STREAMS = streams_of(__file__)
# Share statistics: LinkedIn's field -> ours.
SHARE_FIELDS = {
    "impressionCount": "impressions",
    "uniqueImpressionsCount": "unique_impressions",
    "clickCount": "clicks",
    "likeCount": "likes",
    "commentCount": "comments",
    "shareCount": "shares",
}
FACET_KEYS = ("geo", "industry", "function", "seniority", "staffCountRange")


def utc_day(millis: Any) -> date:
    return datetime.fromtimestamp(int(millis) / 1000, UTC).date()


def share_values(stats: dict[str, Any]) -> dict[str, Scalar]:
    return {ours: int(stats.get(theirs) or 0) for theirs, ours in SHARE_FIELDS.items()}


class LinkedinPagesConnector(RestliConnector):
    slug: ClassVar[str] = "linkedin"
    streams = STREAMS
    client_class = RestliClient
    client: RestliClient

    @property
    def org_urn(self) -> str:
        return f"urn:li:organization:{self.ctx.external_id}"

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        if request.filters:
            raise UpstreamError("LinkedIn page datasets take no pushdown filters")
        return super().variables(request, stream) | {"org_urn": leaf(self.org_urn)}

    def window_variables(
        self, request: FetchRequest, requester: Requester, first: date, last: date
    ) -> dict[str, str]:
        start, end = epoch_millis(first), epoch_millis(last + timedelta(days=1))
        return {"time_intervals": f"(timeRange:(start:{start},end:{end}),timeGranularityType:DAY)"}

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        dataset, rows, names = request.dataset, [], self.names(answers)
        for answer in answers:
            if answer.call.requester == "names":
                continue
            for element in answer.records:
                if dataset == "network_size":
                    values: dict[str, Scalar] = {
                        "followers_total": int(element.get("firstDegreeSize") or 0)
                    }
                    rows.append(Row(day=self.today(), keys={}, values=values))
                elif dataset == "follower_demographics":
                    rows += self._facet_rows(request, element, names)
                else:
                    day = utc_day(dig(element, "timeRange.start"))
                    rows.append(Row(day=day, keys={}, values=self._day_values(dataset, element)))
        return FetchResult(rows=rows)

    @staticmethod
    def _day_values(dataset: str, element: dict[str, Any]) -> dict[str, Scalar]:
        if dataset == "follower_gains":
            gains = element.get("followerGains") or {}
            organic = int(gains.get("organicFollowerGain") or 0)
            paid = int(gains.get("paidFollowerGain") or 0)
            return {
                "followers": organic + paid,
                "organic_followers": organic,
                "paid_followers": paid,
            }
        if dataset == "page_views":
            views = dig(element, "totalPageStatistics.views.allPageViews") or {}
            return {
                "page_views": int(views.get("pageViews") or 0),
                "unique_page_views": int(views.get("uniquePageViews") or 0),
            }
        return share_values(element.get("totalShareStatistics") or {})

    def _facet_rows(
        self, request: FetchRequest, element: dict[str, Any], names: dict[str, str]
    ) -> list[Row]:
        facets: dict[str, str] = self.stream(request).extra["facets"]
        if len(request.breakdowns) != 1:
            raise UpstreamError(f"follower_demographics needs one of {', '.join(facets)}")
        breakdown, lookup = request.breakdowns[0], self.lookup(request)
        rows = []
        for entry in element.get(facets[breakdown]) or []:
            value = next((str(entry[k]) for k in FACET_KEYS if k in entry), "")
            counts = entry.get("followerCounts") or {}
            total = int(counts.get("organicFollowerCount") or 0)
            total += int(counts.get("paidFollowerCount") or 0)
            keys = {breakdown: names.get(value, value)}
            if lookup is not None:  # named by the lookup, keyed by the URN
                keys[lookup[0]] = value
            rows.append(Row(day=self.today(), keys=keys, values={"followers": total}))
        return rows

    # --- posts ---

    def plan_objects(self, request: FetchRequest, estimate: ObjectEstimate) -> list[Call]:
        """The listing's pages and the statistics calls for the estimated posts (all
        `estimated`: the listing decides)."""
        first, requester = self.listing(request)
        size = requester.paginator.page_size or 100
        per_call = int(self.stream(request).extra["stats_per_call"])
        posts = estimate.in_span or 1
        pages = max(1, math.ceil(posts / size))
        stats = render_call(
            self.streams.requester("posts", "stats"),
            self.variables(request, self.stream(request)),
            None,
        )
        return [replace(first, estimated=True) for _ in range(pages)] + [
            replace(
                stats,
                params={**stats.params, "shares": f"List({per_call} post URNs)"},
                estimated=True,
            )
            for _ in range(math.ceil(posts / per_call))
        ]

    async def fetch_objects(self, request: FetchRequest) -> FetchResult:
        call, requester = self.listing(request)
        listed: list[dict[str, Any]] = []
        async for page, _ in self.client.pages(
            call.method, call.path, call.params, requester.paginator, requester.selector
        ):
            days = [utc_day(item["createdAt"]) for item in page]
            listed += [
                i for i, d in zip(page, days, strict=True) if request.start <= d <= request.end
            ]
            if not days or min(days) < request.start:
                break  # newest first: the rest is older than the period
        stats = self.streams.requester("posts", "stats")
        base = render_call(stats, self.variables(request, self.stream(request)), None)
        per_call = int(self.stream(request).extra["stats_per_call"])
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(listed), per_call):
            urns = [str(item["id"]) for item in listed[i : i + per_call]]
            params = {**base.params, "shares": restli_list(urns)}
            answer = await self.client.request("GET", base.path, params)
            for element in answer.get("elements") or []:
                found[str(element.get("share"))] = element.get("totalShareStatistics") or {}
        objects = []
        for item in listed:
            created = datetime.fromtimestamp(int(item["createdAt"]) / 1000, UTC)
            item = {**item, "created_at": created.isoformat()}
            values = share_values(found.get(str(item["id"]), {}))
            objects.append(self.object_row(request, item, values))
        return FetchResult(objects=objects)

    async def account_info(self) -> AccountInfo:
        """The organization (organizations.get also proves the login may still read it)."""
        org = await self.client.request("GET", f"/rest/organizations/{self.ctx.external_id}", {})
        return AccountInfo(
            name=str(org.get("localizedName") or self.ctx.external_id), timezone="UTC"
        )
