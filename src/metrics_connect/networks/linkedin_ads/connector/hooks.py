"""LinkedIn Ads on the Rest.li kit: what streams.yaml cannot say.

The adAnalytics parameters of a request (the account URN facet, the pivot of the
dataset or of the demographic breakdown, the fields, the dateRange of each window), and
the answers: costs arrive as strings, elements carry their pivot value as a URN and
their days as Rest.li dates; tables join the names of campaigns, groups and creatives
listed by the search finders, and a campaign's `results` is the figure its objective
optimizes for (Campaign Manager's "Results").
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer
from metrics_connect.connectors.kit.restli import (
    RestliClient,
    RestliConnector,
    leaf,
    restli_date_range,
)
from metrics_connect.connectors.kit.spec import Requester, Stream, streams_of

STREAMS = streams_of(__file__)
ACCOUNT_URN = "urn:li:sponsoredAccount:"
# Campaign Manager's result per objective; other objectives count clicks.
RESULT_OF_OBJECTIVE = {
    "BRAND_AWARENESS": "impressions",
    "WEBSITE_VISIT": "landingPageClicks",
    "ENGAGEMENT": "totalEngagements",
    "VIDEO_VIEW": "videoViews",
    "LEAD_GENERATION": "oneClickLeads",
    "WEBSITE_CONVERSION": "externalWebsiteConversions",
    "JOB_APPLICANT": "jobApplyClicks",
}
# Dataset fields that are no adAnalytics metric: joined from the listings or computed.
JOINED = {"results", "campaign_status", "objective", "createdAt"}


def number(value: Any) -> float | int:
    """A metric of an element: costs are decimal strings, counts integers."""
    if isinstance(value, str):
        return float(value)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def element_day(element: dict[str, Any]) -> date:
    start = element["dateRange"]["start"]
    return date(int(start["year"]), int(start["month"]), int(start["day"]))


class LinkedinAdsConnector(RestliConnector):
    slug: ClassVar[str] = "linkedin_ads"
    streams = STREAMS
    client_class = RestliClient
    client: RestliClient

    def pivot(self, request: FetchRequest, stream: Stream) -> str:
        pivots: dict[str, str] = stream.extra.get("pivots") or {}
        if not pivots:
            return str(stream.extra.get("pivot") or "ACCOUNT")
        if len(request.breakdowns) != 1 or request.breakdowns[0] not in pivots:
            raise UpstreamError(
                f"{request.dataset} needs exactly one of {', '.join(pivots)} (one pivot a call)"
            )
        return pivots[request.breakdowns[0]]

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        if request.filters:
            raise UpstreamError("LinkedIn Ads datasets take no pushdown filters")
        metrics = [f for f in stream.fields if f not in JOINED]
        campaign_type = stream.extra.get("campaign_type")
        return super().variables(request, stream) | {
            "account_urn": leaf(f"{ACCOUNT_URN}{self.ctx.external_id}"),
            "pivot": self.pivot(request, stream),
            "fields": ",".join(["dateRange", "pivotValues", *metrics]),
            "campaign_type": f"List({campaign_type})" if campaign_type else "",
        }

    def window_variables(
        self, request: FetchRequest, requester: Requester, first: date, last: date
    ) -> dict[str, str]:
        return {"date_range": restli_date_range(first, last)}

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        stream = self.stream(request)
        metrics = [f for f in stream.fields if f not in JOINED]
        listed = {
            self._id(item): item
            for a in answers
            if a.call.requester == "listing"
            for item in a.records
        }
        names, lookup = self.names(answers), self.lookup(request)
        rows: list[Row] = []
        for answer in answers:
            if answer.call.requester != "analytics":
                continue
            for element in answer.records:
                values: dict[str, Scalar] = {m: number(element.get(m)) for m in metrics}
                day = element_day(element) if stream.kind == "daily" else None
                pivot_value = str((element.get("pivotValues") or [""])[0])
                keys: dict[str, str] = {}
                if "id_key" in stream.extra:
                    # Tables by entity: keyed by name and id (names may repeat).
                    key = pivot_value.removeprefix(str(stream.extra["id_prefix"]))
                    item = listed.get(key) or {}
                    if request.breakdowns:
                        keys[str(stream.extra["id_key"])] = key
                        keys[request.breakdowns[0]] = str(item.get("name") or key)
                    values |= self._joined(item, values)
                elif lookup is not None:  # a demographic named by the lookup
                    keys[lookup[0]] = pivot_value
                    keys[request.breakdowns[0]] = names.get(pivot_value, pivot_value)
                elif request.breakdowns:
                    keys[request.breakdowns[0]] = pivot_value
                rows.append(Row(day=day, keys=keys, values=values))
        if not request.breakdowns and stream.kind == "period":
            rows = [self._summed(rows)] if rows else []
        return FetchResult(rows=rows)

    @staticmethod
    def _id(item: dict[str, Any]) -> str:
        return str(item.get("id", "")).rpartition(":")[2]

    @staticmethod
    def _joined(item: dict[str, Any], values: dict[str, Scalar]) -> dict[str, Scalar]:
        """Attributes from the listing; a campaign's result by its objective."""
        out: dict[str, Scalar] = {}
        if "objectiveType" in item:
            objective = str(item["objectiveType"])
            out |= {"objective": objective, "campaign_status": str(item.get("status") or "")}
            out["results"] = values.get(RESULT_OF_OBJECTIVE.get(objective, "clicks"), 0)
        elif "createdAt" in item:
            created = datetime.fromtimestamp(int(item["createdAt"]) / 1000, UTC)
            out["createdAt"] = created.strftime("%Y-%m-%d %H:%M:%S")
        return out

    @staticmethod
    def _summed(rows: list[Row]) -> Row:
        """The account's row of a period dataset asked by entity (campaigns add up)."""
        total: dict[str, Scalar] = {}
        for row in rows:
            for name, value in row.values.items():
                if isinstance(value, int | float):
                    total[name] = total.get(name, 0) + value  # type: ignore[operator]
        return Row(day=None, keys={}, values=total)

    async def account_info(self) -> AccountInfo:
        """The ad account (adAccounts.get also proves the login may still read it)."""
        account = await self.client.request("GET", f"/rest/adAccounts/{self.ctx.external_id}", {})
        return AccountInfo(
            name=str(account.get("name") or self.ctx.external_id),
            timezone="UTC",
            currency=str(account.get("currency") or "") or None,
        )
