"""X Ads on the json_rest kit: what streams.yaml cannot say.

X's error envelope ({"errors": [{"code", "message"}]}); which entity a request asks
(the account, its listed campaigns 20 ids a call, or the campaigns a filter names);
local-midnight `start_time`/`end_time`; asynchronous jobs for long requests (create,
poll by job_ids, download the gzipped file); and the rows: each entity's metric arrays,
one value per day of the call's window, spend converted from micros.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, ClassVar

import httpx

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    Row,
    Scalar,
    UpstreamError,
    UpstreamTransient,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.executor import KitConnector, render, render_call
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import Requester, Stream, streams_of
from metrics_connect.connectors.kit.windows import bounds, local_midnight, split

STREAMS = streams_of(__file__)
# entity_ids of a planned call whose ids are the account's campaigns, listed first.
LISTED = "(the account's campaigns)"
CAMPAIGN_KEYS = ("campaign_id", "campaign_name")
MICROS = 1_000_000


class XAdsClient(JsonRestClient):
    family_name = "X Ads API"
    log_fields = ("x_code", "upstream_subcode")


class XAdsConnector(KitConnector):
    slug: ClassVar[str] = "twitter_ads"
    streams = STREAMS
    client_class = XAdsClient
    client: XAdsClient

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._campaigns: dict[str, str] | None = None  # id -> name, listed once

    # --- the plan ---

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        entity, ids = "ACCOUNT", self.ctx.external_id
        named = [f for f in request.filters if f.field == "campaign_id"]
        if named:
            entity, ids = "CAMPAIGN", ",".join(_values(named))
        elif set(request.breakdowns) & set(CAMPAIGN_KEYS):
            entity, ids = "CAMPAIGN", LISTED
        unknown = set(request.breakdowns) - set(stream.breakdowns)
        if unknown:
            raise UpstreamError(f"X Ads stats cannot break down by {', '.join(sorted(unknown))}")
        return super().variables(request, stream) | {"entity": entity, "entity_ids": ids}

    def window_variables(
        self, request: FetchRequest, requester: Requester, first: date, last: date
    ) -> dict[str, str]:
        # DAY granularity: the account's local midnights, end exclusive.
        return {
            "start_time": local_midnight(first, self.tz).isoformat(),
            "end_time": local_midnight(last + timedelta(days=1), self.tz).isoformat(),
        }

    def plan(self, request: FetchRequest) -> list[Call]:
        stream = self.stream(request)
        extra = stream.extra
        days = (request.end - request.start).days + 1
        if stream.kind == "objects" or days <= int(extra.get("async_over_days", days)):
            return super().plan(request)
        # A long request: one asynchronous job per 90 days (X's async limit).
        requester = self.streams.requester(request.dataset, "stats")
        shared = self.variables(request, stream)
        calls = []
        for first, last in split(request.start, request.end, int(extra["async_max_days"]), self.tz):
            variables = {
                **shared,
                **bounds(first, last, requester.window, self.tz),
                **self.window_variables(request, requester, first, last),
            }
            call = render_call(requester, variables, (first, last))
            calls.append(replace(call, method="POST", path=render(extra["jobs_path"], shared)))
        return calls

    # --- the calls ---

    async def run(self, request: FetchRequest, call: Call) -> Answer:
        if call.requester != "stats":
            return await super().run(request, call)
        ids = call.params["entity_ids"].split(",")
        if call.params["entity_ids"] == LISTED:
            ids = list(await self.campaigns(request))
        size = int(self.stream(request).extra["entity_ids_per_call"])
        records: list[dict[str, Any]] = []
        for i in range(0, len(ids), size):
            params = {**call.params, "entity_ids": ",".join(ids[i : i + size])}
            if call.method == "POST":
                body = await self.job(request, call.path, params)
            else:
                body = await self.client.get(call.path, params)
            records += [r for r in body.get("data") or [] if isinstance(r, dict)]
        return Answer(call, records)

    async def campaigns(self, request: FetchRequest) -> dict[str, str]:
        """The account's campaigns (deleted ones too: their days still count), once."""
        if self._campaigns is None:
            listing = FetchRequest("campaigns", request.start, request.end)
            call, requester = self.listing(listing)
            answer = await self.client.run(call, requester)
            self._campaigns = {str(c["id"]): str(c.get("name") or c["id"]) for c in answer.records}
        return self._campaigns

    async def job(self, request: FetchRequest, path: str, params: dict[str, str]) -> Any:
        """An asynchronous job: created, polled by job_ids until it ends, downloaded."""
        report = self.stream(request).async_report
        assert report is not None
        created = await self.client.request("POST", path, params)
        job_id = str(created["data"][report.id_field])
        for delay in report.poll.delays:
            await asyncio.sleep(delay)
            body = await self.client.get(path, {"job_ids": job_id})
            jobs = [j for j in body.get("data") or [] if str(j.get("id_str")) == job_id]
            job: dict[str, Any] = jobs[0] if jobs else {}
            status = str(job.get(report.poll.status_field) or "")
            if status in report.poll.failed:
                raise UpstreamTransient(f"X Ads API: stats job {job_id} ended {status}")
            if status in report.poll.completed and job.get(report.download_path):
                return await self.download(str(job[report.download_path]))
        raise UpstreamTransient(f"X Ads API: stats job {job_id} still processing")

    async def download(self, url: str) -> Any:
        """A job's file: pre-signed (no OAuth), gzipped JSON with the stats body's shape."""
        try:
            response = await self.ctx.http.get(url)
        except httpx.HTTPError as exc:
            raise UpstreamTransient("X Ads API: cannot download a stats job's file") from exc
        if response.status_code != 200:
            raise UpstreamTransient(f"X Ads API: job file answered HTTP {response.status_code}")
        raw = response.content
        try:
            return json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
        except (OSError, ValueError) as exc:
            raise UpstreamTransient("X Ads API: a stats job's file is not gzipped JSON") from exc

    # --- the rows ---

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        stream, rows = self.stream(request), []
        names = self._campaigns or {}
        for answer in answers:
            assert answer.call.window is not None
            first = answer.call.window[0]
            per_account = answer.call.params["entity"] == "ACCOUNT"
            for record in answer.records:
                entity_id = str(record.get("id"))
                keys = (
                    {}
                    if per_account
                    else {
                        "campaign_id": entity_id,
                        "campaign_name": names.get(entity_id, entity_id),
                    }
                )
                for data in record.get("id_data") or []:
                    for offset, values in enumerate(_days(data.get("metrics") or {}, stream)):
                        if values:
                            day = first + timedelta(days=offset)
                            rows.append(Row(day=day, keys=dict(keys), values=values))
        return FetchResult(rows=rows)

    async def account_info(self) -> AccountInfo:
        """The account's name and time zone; its currency is its funding instruments'."""
        base = f"/{self.version}/accounts/{self.ctx.external_id}"
        account = (await self.client.get(base, {}))["data"]
        funding = await self.client.get(f"{base}/funding_instruments", {})
        currencies = [f.get("currency") for f in funding.get("data") or [] if f.get("currency")]
        return AccountInfo(
            name=str(account.get("name") or self.ctx.external_id),
            timezone=str(account.get("timezone") or "UTC"),
            currency=str(currencies[0]) if currencies else None,
        )


def _values(filters: list[Any]) -> list[str]:
    out: list[str] = []
    for flt in filters:
        value = flt.value
        out += [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    return out


def _days(metrics: dict[str, Any], stream: Stream) -> list[dict[str, Scalar]]:
    """Each day's numbers of one entity: metric arrays (null: no data over the span)."""
    length = max((len(v) for v in metrics.values() if isinstance(v, list)), default=0)
    days: list[dict[str, Scalar]] = [{} for _ in range(length)]
    for name, series in metrics.items():
        field = "spend" if name == "billed_charge_local_micro" else name
        if field not in stream.fields or not isinstance(series, list):
            continue
        for offset, value in enumerate(series):
            if isinstance(value, int | float):
                days[offset][field] = value / MICROS if field == "spend" else value
    return days
