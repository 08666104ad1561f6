"""Pinterest (organic) on the JSON REST kit: what streams.yaml cannot say.

The split of the account's analytics (one breakdown a call: APP_TYPE or PIN_FORMAT), its
answer keyed by split value, and the pins: listed newest first until the first one older
than the period, joined to their boards' names, each with one analytics call for its
last 90 days (what Pinterest serves).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
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
from metrics_connect.connectors.kit.executor import KitConnector, render_call
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import Stream, streams_of
from metrics_connect.connectors.kit.windows import moment

STREAMS = streams_of(__file__)
SPLITS = {"app_type": "APP_TYPE", "pin_format": "PIN_FORMAT"}
SERVED_DAYS = 90
READY = {"READY", "PROCESSING"}


class PinterestConnector(KitConnector):
    slug: ClassVar[str] = "pinterest"
    streams = STREAMS
    client_class = JsonRestClient

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        splits = [SPLITS[b] for b in request.breakdowns if b in SPLITS]
        if len(splits) > 1:
            raise UpstreamError("Pinterest splits analytics by one field at a time")
        return super().variables(request, stream) | {"split": splits[0] if splits else "NO_SPLIT"}

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        if request.dataset != "account_daily":
            return super().result(request, answers)
        breakdown = next((b for b in request.breakdowns if b in SPLITS), None)
        rows: list[Row] = []
        for answer in answers:
            body = answer.body if isinstance(answer.body, dict) else {}
            for split, series in body.items():
                keys = {breakdown: str(split)} if breakdown else {}
                for entry in (series or {}).get("daily_metrics") or []:
                    if entry.get("data_status") not in READY:
                        continue  # e.g. BEFORE_BUSINESS_CREATED: no figures that day
                    values = self.values(entry.get("metrics") or {})
                    rows.append(
                        Row(day=date.fromisoformat(entry["date"]), keys=keys, values=values)
                    )
        return FetchResult(rows=rows)

    def values(self, metrics: dict[str, Any]) -> dict[str, Scalar]:
        fields = self.streams.datasets["account_daily"].fields
        return {
            f: metrics[f.upper()] for f in fields if isinstance(metrics.get(f.upper()), int | float)
        }

    # --- pins ---

    def served_days(self, created: date) -> tuple[date, date]:
        today = self.today()
        return max(created, today - timedelta(days=SERVED_DAYS)), today

    def analytics_call(self, request: FetchRequest, pin_id: str, created: date) -> Call:
        first, last = self.served_days(created)
        requester = self.streams.requester(request.dataset, "analytics")
        variables = self.variables(request, self.stream(request)) | {
            "pin": pin_id,
            "start": first.isoformat(),
            "end": last.isoformat(),
        }
        return render_call(requester, variables, (first, last))

    def plan_objects(self, request: FetchRequest, estimate: ObjectEstimate) -> list[Call]:
        listing, _ = self.listing(request)
        boards, _ = self.listing(request, "boards")
        per_pin = self.analytics_call(request, "{pin_id}", request.start)
        listed = [replace(c, estimated=True) for c in (listing, boards)]
        return listed + [replace(per_pin, estimated=True)] * (estimate.in_span or 0)

    async def fetch_objects(self, request: FetchRequest) -> FetchResult:
        call, requester = self.listing(request)
        pins: list[dict[str, Any]] = []
        paginator, selector = requester.paginator, requester.selector
        async for page, _ in self.client.pages("GET", call.path, call.params, paginator, selector):
            pins += [p for p in page if moment(str(p["created_at"])).date() >= request.start]
            if any(moment(str(p["created_at"])).date() < request.start for p in page):
                break  # newest first: the rest is older than the period
        board_call, board_requester = self.listing(request, "boards")
        boards = await self.client.run(board_call, board_requester)
        names = {str(b.get("id")): str(b.get("name") or "") for b in boards.records}
        rows = []
        for item in pins:
            created = moment(str(item["created_at"])).date()
            if created > request.end:
                continue
            answer = await self.client.get(
                (c := self.analytics_call(request, str(item["id"]), created)).path, c.params
            )
            summary = (answer.get("all") or {}).get("summary_metrics") or {}
            item = {**item, "board_name": names.get(str(item.get("board_id")), "")}
            rows.append(self.object_row(request, item, self.values(summary)))
        return FetchResult(objects=rows)

    async def account_info(self) -> AccountInfo:
        """The business account (GET /v5/user_account); its analytics days are UTC."""
        body = await self.client.request("GET", f"/{self.version}/user_account", {})
        name = body.get("business_name") or body.get("username") or self.ctx.external_id
        return AccountInfo(name=str(name), timezone="UTC", currency=None)
