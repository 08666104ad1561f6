"""TikTok Ads on the kit: what streams.yaml cannot say.

TikTok answers HTTP 200 for business errors too: the envelope's `code` (0 is success)
and `message` go through the error map. A request's breakdowns choose the report: the
entity key (advertiser, campaign, ad name) its data level and ID dimension, an audience
key (gender, age, platform, country, region) an AUDIENCE report; daily datasets add
stat_time_day. Campaign and ad filters go upstream as `filtering`. Numbers come as
strings; rows carry the entity's id and name.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from dataclasses import replace
from datetime import date
from typing import Any, ClassVar

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    Row,
    Scalar,
    UpstreamTransient,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.http import KitClient
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import AsyncReport, Requester, Stream, dig, streams_of

STREAMS = streams_of(__file__)
EXTRA = STREAMS.extra
GROUPS = STREAMS.field_groups
LEVELS: dict[str, list[str]] = STREAMS.extra["levels"]
ATTRIBUTES: dict[str, list[str]] = STREAMS.extra["attributes"]
PUSHDOWN: dict[str, str] = STREAMS.extra["pushdown"]
AUDIENCE = tuple(GROUPS["audience"])
TEXT_KEYS = frozenset((*GROUPS["entity_keys"], *AUDIENCE))
# What a row's numbers are asked as: averages TikTok serves instead of their sums.
ASKED_AS = {"video_play_seconds": ("average_video_play", "video_play_actions")}
OPTION_LEVELS = {"campaign": "campaign_name", "ad": "ad_name"}


class TikTokClient(JsonRestClient):
    """The family's client, reading TikTok's business errors in HTTP 200 bodies, and
    running heavy queries as asynchronous report tasks."""

    family_name = "TikTok API for Business"

    def is_error_body(self, body: Any) -> bool:
        return isinstance(body, dict) and body.get("code") not in (0, None)

    async def run(
        self, call: Call, requester: Requester, report: AsyncReport | None = None
    ) -> Answer:
        if report is None or call.method != "POST":
            return await super().run(call, requester, report)
        return Answer(call, await self.task(call, report))

    async def task(self, call: Call, report: AsyncReport) -> list[dict[str, Any]]:
        """Create the task with the query as JSON, check it until done, read its CSV."""
        body = {k: json.loads(v) if v[:1] in "[{" else v for k, v in call.params.items()}
        created = await self.request("POST", call.path, {}, json=body)
        task_id = str(dig(created, f"data.{report.id_field}") or "")
        if not task_id:
            raise UpstreamTransient("TikTok did not create the report task")
        ids = {"advertiser_id": str(body.get("advertiser_id", "")), "task_id": task_id}
        deadline = time.monotonic() + max(self.budget, 5.0) * report.poll.budget_factor
        delays = report.poll.delays
        for attempt in range(1000):
            await asyncio.sleep(delays[min(attempt, len(delays) - 1)])
            checked = await self.get(report.poll.path.format(version=self.version), ids)
            status = str(dig(checked, f"data.{report.poll.status_field}") or "")
            if status in report.poll.completed:
                return await self.download(
                    report.download_path.format(version=self.version), ids, body
                )
            if status in report.poll.failed or time.monotonic() > deadline:
                break
        raise UpstreamTransient(f"TikTok report task {task_id} did not complete")

    async def download(
        self, path: str, ids: dict[str, str], query: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The task's file as report rows ({dimensions, metrics}, like a page's)."""
        response = await self.retrying(
            lambda: self.send("report.task.download", "GET", path, params=ids)
        )
        if "json" in response.headers.get("content-type", ""):
            self.body_or_raise("report.task.download", response)  # an error envelope
        dimensions = set(query.get("dimensions") or [])
        return [
            {
                "dimensions": {k: v for k, v in row.items() if k in dimensions},
                "metrics": {k: v for k, v in row.items() if k not in dimensions},
            }
            for row in csv.DictReader(io.StringIO(response.text))
        ]


def number(raw: Any) -> float | int | None:
    if raw is None or isinstance(raw, bool) or raw == "" or raw == "-":
        return None
    if isinstance(raw, int | float):
        return raw
    try:
        text = str(raw)
        return float(text) if "." in text else int(text)
    except ValueError:
        return None


class TikTokAdsConnector(KitConnector):
    slug = "tiktok_ads"
    streams = STREAMS
    client_class: ClassVar[type[KitClient]] = TikTokClient

    def entity_key(self, request: FetchRequest) -> str:
        for key in ("ad_name", "campaign_name"):
            if key in request.breakdowns:
                return key
        level = dict(request.options).get("level")
        return OPTION_LEVELS.get(level or "", "advertiser_name")

    def expected_rows(self, request: FetchRequest, call: Call) -> int:
        first, last = call.window or (request.start, request.end)
        days = (last - first).days + 1 if self.stream(request).kind == "daily" else 1
        level = LEVELS[self.entity_key(request)][0]
        rows = days * EXTRA["level_rows"][level]
        for name in self.audience(request):
            rows *= EXTRA["audience_rows"][name]
        return rows

    def plan(self, request: FetchRequest) -> list[Call]:
        """Heavy calls (POST, by expected_rows) go to the task endpoint instead."""
        create = str(EXTRA["task_create_path"]).format(version=self.version)
        return [replace(c, path=create) if c.method == "POST" else c for c in super().plan(request)]

    def audience(self, request: FetchRequest) -> list[str]:
        found = [b for b in request.breakdowns if b in AUDIENCE]
        if request.dataset == "audience_daily" and not found:
            return ["gender"]  # the whole, summed over one audience split
        return found

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        level, id_dimension = LEVELS[self.entity_key(request)]
        dimensions = [id_dimension]
        if stream.kind == "daily":
            dimensions.append("stat_time_day")
        audience = self.audience(request)
        dimensions += audience
        metrics: list[str] = []
        for field in stream.fields:
            if field in TEXT_KEYS:  # the rows' keys, not metrics to ask for
                continue
            for asked in ASKED_AS.get(field, (field,)):
                if asked != "campaigns" and asked not in metrics:
                    metrics.append(asked)
        if "campaigns" in stream.fields and "impressions" not in metrics:
            metrics.append("impressions")
        metrics += [a for a in ATTRIBUTES[level] if a not in metrics]
        return {
            **super().variables(request, stream),
            "report_type": "AUDIENCE" if audience else "BASIC",
            "data_level": level,
            "dimensions": json.dumps(dimensions),
            "metrics": json.dumps(metrics),
            "filtering": self.filtering(request),
        }

    @staticmethod
    def filtering(request: FetchRequest) -> str:
        filters = []
        for flt in request.filters:
            name = PUSHDOWN.get(flt.field)
            if name is None:
                continue
            values = flt.value if isinstance(flt.value, list | tuple) else [flt.value]
            filters.append(
                {
                    "field_name": name,
                    "filter_type": "IN",
                    "filter_value": json.dumps([str(v) for v in values]),
                }
            )
        return json.dumps(filters) if filters else ""

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        stream = self.stream(request)
        entity = self.entity_key(request)
        rows = []
        for answer in answers:
            for record in answer.records:
                dims: dict[str, Any] = record.get("dimensions") or {}
                mets: dict[str, Any] = record.get("metrics") or {}
                day = None
                if stream.kind == "daily":
                    day = date.fromisoformat(str(dims["stat_time_day"])[:10])
                rows.append(
                    Row(
                        day=day,
                        keys=self.keys(request, entity, dims, mets),
                        values=self.values(stream, mets),
                    )
                )
        return FetchResult(rows=rows)

    def keys(
        self, request: FetchRequest, entity: str, dims: dict[str, Any], mets: dict[str, Any]
    ) -> dict[str, str]:
        keys = {k: str(v) for k, v in dims.items() if k != "stat_time_day"}
        if entity in request.breakdowns or dict(request.options).get("level"):
            keys[entity] = str(mets.get(entity) or dims.get(LEVELS[entity][1]) or "")
        for name in ("campaign_id", "campaign_name"):
            if mets.get(name) and name in ATTRIBUTES["AUCTION_AD"] and entity == "ad_name":
                keys[name] = str(mets[name])
        return keys

    @staticmethod
    def values(stream: Stream, mets: dict[str, Any]) -> dict[str, Scalar]:
        values: dict[str, Scalar] = {}
        for field in stream.fields:
            if field == "video_play_seconds":
                average, plays = (
                    number(mets.get("average_video_play")),
                    number(mets.get("video_play_actions")),
                )
                if average is not None and plays is not None:
                    values[field] = round(average * plays, 2)
            elif field == "campaigns":
                values[field] = 1 if (number(mets.get("impressions")) or 0) > 0 else 0
            else:
                value = number(mets.get(field))
                if value is not None:
                    values[field] = value
        return values

    async def account_info(self) -> AccountInfo:
        """The advertiser's name, time zone and currency (advertiser/info/)."""
        body = await self.client.get(
            f"open_api/{self.version}/advertiser/info/",
            {"advertiser_ids": json.dumps([self.ctx.external_id])},
        )
        found = (body.get("data") or {}).get("list") or [{}]
        info = found[0]
        return AccountInfo(
            name=str(info.get("name") or self.ctx.external_id),
            timezone=str(info.get("timezone") or self.ctx.timezone),
            currency=str(info["currency"]) if info.get("currency") else None,
        )
