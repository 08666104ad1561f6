"""Google Ads on the Google kit: what streams.yaml cannot say.

The GAQL query of each dataset (its resource, keys, attributes and metrics from
`extra`), the headers every call carries (`developer-token`, and `login-customer-id`
for a client reached through its manager), the GoogleAdsFailure of an error (its codes
in the message, a quota error's retryDelay as the retry-after), and the rows:
searchStream's messages of camelCase GoogleAdsRows, money from micros to the
customer's currency, percentages and scores back to parts (x impressions), enums as
text, geo target constants to names, a campaign's location criteria joined in one text.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import httpx

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.errors import Failure
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.google.client import GoogleClient, parse_failure
from metrics_connect.connectors.kit.spec import Stream, streams_of

STREAMS = streams_of(__file__)
# Percentages of impressions, carried as parts (x impressions) to be divided again.
SHARES = {
    "top_impression_percentage": "top_impressions",
    "absolute_top_impression_percentage": "absolute_top_impressions",
}
GEO_FIELDS = "geo_target_constant.resource_name, geo_target_constant.name"
CUSTOMER_FIELDS = "customer.descriptive_name, customer.time_zone, customer.currency_code"
# GAQL metrics stored under another name (TrueView views are the catalog's video views).
RENAMED = {"video_trueview_views": "video_views"}
DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")
NUMBER = re.compile(r"^-?[\d.]+(e-?\d+)?$")


def camel_path(field: str) -> list[str]:
    return [re.sub(r"_([a-z])", lambda m: m.group(1).upper(), p) for p in field.split(".")]


def read(row: dict[str, Any], field: str) -> Any:
    """A GAQL field of a GoogleAdsRow in REST's JSON (campaign.advertisingChannelType)."""
    node: Any = row
    for part in camel_path(field):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def failure_of(body: Any) -> dict[str, Any] | None:
    """The GoogleAdsFailure of an error body (searchStream writes it inside an array)."""
    first = body[0] if isinstance(body, list) and body else body
    error = first.get("error") if isinstance(first, dict) else None
    for detail in (error or {}).get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("GoogleAdsFailure"):
            return detail
    return None


class GoogleAdsClient(GoogleClient):
    family_name = "Google Ads API"

    def family_headers(self) -> dict[str, str]:
        settings_token = getattr(self.ctx.settings, "google_ads_developer_token", "")
        token = settings_token or self.ctx.credentials.get("developer_token") or ""
        headers = {"developer-token": str(token)}
        login = str(self.ctx.credentials.get("login_customer_id") or "")
        if login and login != self.ctx.external_id:
            headers["login-customer-id"] = login
        return headers

    def is_error_body(self, body: Any) -> bool:
        # A stream can end in an error after its first messages.
        return isinstance(body, list) and any(isinstance(m, dict) and "error" in m for m in body)

    def parse_failure(self, status: int, body: Any) -> Failure:
        first = body[-1] if isinstance(body, list) and body else body
        failure = parse_failure(status, first)
        ads = failure_of([first])
        if ads is None:
            return failure
        codes = [
            f"{kind}.{code}: {error.get('message', '')}"
            for error in ads.get("errors") or []
            for kind, code in (error.get("errorCode") or {}).items()
        ]
        return replace(failure, message="; ".join(codes) or failure.message)

    def body_or_raise(self, endpoint: str, response: httpx.Response) -> Any:
        """Google Ads says how long to wait in the failure (quotaErrorDetails.retryDelay),
        not in a header: read as the retry-after the error map honours."""
        try:
            return super().body_or_raise(endpoint, response)
        except UpstreamError as error:
            delay = retry_delay(response)
            if delay is None or response.status_code < 400:
                raise
            headers = httpx.Headers({**response.headers, "retry-after": str(delay)})
            raise self.errors.classify(
                self.parse_failure(response.status_code, _json(response)), headers
            ) from error


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def retry_delay(response: httpx.Response) -> float | None:
    ads = failure_of(_json(response))
    for error in (ads or {}).get("errors") or []:
        raw = ((error.get("details") or {}).get("quotaErrorDetails") or {}).get("retryDelay")
        match = DURATION.match(str(raw or ""))
        if match:
            return float(match.group(1))
    return None


class GoogleAdsConnector(KitConnector):
    slug: ClassVar[str] = "google_ads"
    streams = STREAMS
    client_class = GoogleAdsClient
    client: GoogleAdsClient

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        return super().variables(request, stream) | {"customer": self.customer_id}

    @property
    def customer_id(self) -> str:
        return self.ctx.external_id.removeprefix("customers/").replace("-", "")

    def query(self, request: FetchRequest) -> str:
        stream = self.stream(request)
        extra = stream.extra
        self.refuse_unknown_breakdowns(request)
        if request.filters:
            raise UpstreamError("Google Ads datasets take no pushdown filters")
        keys = extra["keys"]
        fields = (
            [keys[b] for b in self.breakdowns(request)]
            if "count" not in extra
            else list(keys.values())
        )
        fields += [f for f in extra.get("attributes", {}).values() if f not in fields]
        if stream.kind == "daily":
            fields.append("segments.date")
        fields += [f"metrics.{m}" for m in extra["metrics"]]
        # Criteria and "now" figures have no date (no segment goes with the latter).
        dated = stream.kind in ("daily", "period") and "where" not in extra
        where = f"segments.date BETWEEN '{request.start}' AND '{request.end}'" if dated else ""
        query = f"SELECT {', '.join(fields)} FROM {extra['resource']}"
        return f"{query} WHERE {where or extra['where']}" if dated or "where" in extra else query

    def breakdowns(self, request: FetchRequest) -> list[str]:
        """The asked breakdowns, each name with its entity's id (two campaigns of one name
        stay two rows: the catalog's key_field)."""
        ids = self.stream(request).extra.get("ids", {})
        out = list(request.breakdowns)
        return out + [ids[b] for b in request.breakdowns if b in ids and ids[b] not in out]

    def plan(self, request: FetchRequest) -> list[Call]:
        query = self.query(request)
        calls = super().plan(request)
        out = [replace(calls[0], body={"query": query}, summary={"query": query})]
        for call in calls[1:] if request.breakdowns else []:
            # geo_daily's location names: one query for the locations the report found.
            names = f"SELECT {GEO_FIELDS} FROM geo_target_constant"
            summary = {"query": names + " WHERE geo_target_constant.resource_name IN (...)"}
            out.append(replace(call, body={"query": names}, summary=summary, estimated=True))
        return out

    async def fetch(self, request: FetchRequest) -> FetchResult:
        calls = self.plan(request)
        answers = [await self.run(request, calls[0])]
        wanted = self.stream(request).extra.get("geo", [])  # geo target constants to name
        targets = sorted({str(read(r, f)) for r in _rows(answers[0]) for f in wanted if read(r, f)})
        if len(calls) > 1 and targets:
            listed = ", ".join(f"'{t}'" for t in targets)
            query = (
                f"{calls[1].body['query']} WHERE geo_target_constant.resource_name IN ({listed})"
            )
            answers.append(await self.run(request, replace(calls[1], body={"query": query})))
        result = self.result(request, answers)
        result.incomplete_days |= self.incomplete(request)
        return result

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        stream = self.stream(request)
        extra = stream.extra
        names = {
            str(read(r, "geo_target_constant.resource_name")): str(
                read(r, "geo_target_constant.name")
            )
            for answer in answers[1:]
            for r in _rows(answer)
        }
        if "count" in extra:
            seen = {
                tuple(read(r, f) for f in extra["keys"].values())
                for r in _rows(answers[0])
                if int(read(r, "metrics.impressions") or 0) > 0
            }
            return FetchResult(rows=[Row(day=None, keys={}, values={extra["count"]: len(seen)})])
        rows = []
        for record in _rows(answers[0]):
            keys = {b: str(read(record, extra["keys"][b])) for b in self.breakdowns(request)}
            keys = {k: names.get(v, v) for k, v in keys.items()}
            day = (
                date.fromisoformat(str(read(record, "segments.date")))
                if stream.kind == "daily"
                else (self.today() if stream.kind == "snapshot" else None)
            )
            rows.append(Row(day=day, keys=keys, values=self.values(record, extra)))
        return FetchResult(rows=joined(rows, extra["join"], names) if "join" in extra else rows)

    @staticmethod
    def values(record: dict[str, Any], extra: dict[str, Any]) -> dict[str, Scalar]:
        out: dict[str, Scalar] = {}
        metrics = record.get("metrics") or {}
        impressions = float(metrics.get("impressions") or 0)
        for name in extra["metrics"]:
            raw = read(record, f"metrics.{name}")
            if raw is None or isinstance(raw, list) or not NUMBER.match(str(raw)):
                if raw is not None:  # enums (a repeated one joined) and URLs, as text
                    out[name] = ", ".join(raw) if isinstance(raw, list) else raw
                continue  # unset: no score or bucket (too little traffic)
            number = float(raw or 0)
            if name in extra.get("weighted", {}):  # a score: x impressions, if it has one
                scored, weight = extra["weighted"][name]
                out.update({scored: number * impressions, weight: impressions})
            elif name in extra.get("percent", []):  # a period's share (0.0999 is "< 10%")
                out[name] = number * 100
            elif name.endswith("_micros"):  # micros of the customer's currency: in units
                out[name.removesuffix("_micros")] = number / 1_000_000
            elif name in SHARES:
                out[SHARES[name]] = number * impressions
            elif isinstance(raw, str) or name in ("impressions", "clicks"):
                out[RENAMED.get(name, name)] = int(number)  # int64 fields: JSON strings
            else:
                out[RENAMED.get(name, name)] = number
        for name, field in extra.get("attributes", {}).items():
            value = read(record, field)
            if isinstance(value, list):
                value = value[0] if value else None
            if value is not None:
                out[name] = str(value)
        # The UTM tags of an ad's final URL suffix (utm_source=google&utm_medium=cpc...).
        tags = parse_qsl(str(out.get("final_url_suffix") or ""))
        out.update({k: v for k, v in tags if k.startswith("utm_")})
        return out

    async def account_info(self) -> AccountInfo:
        """The customer's name, time zone and currency (one SearchStream on customer)."""
        query = f"SELECT {CUSTOMER_FIELDS} FROM customer"
        body = await self.client.request(
            "POST",
            f"/{self.version}/customers/{self.customer_id}/googleAds:searchStream",
            {},
            {"query": query},
        )
        rows = [r for message in body or [] for r in message.get("results") or []]
        customer = (rows[0].get("customer") if rows else None) or {}
        return AccountInfo(
            name=str(customer.get("descriptiveName") or self.ctx.external_id),
            timezone=str(customer.get("timeZone") or self.ctx.timezone),
            currency=customer.get("currencyCode"),
        )


def joined(rows: list[Row], field: str, names: dict[str, str]) -> list[Row]:
    """One row per key (a campaign): its rows' named texts joined, negative ones excluded."""
    out: dict[tuple[tuple[str, str], ...], Row] = {}
    for row in (r for r in rows if r.keys):  # no campaign (a table's total): no text
        text = names.get(str(row.values.pop(field, "")), "")
        text += " (excluded)" if row.values.pop("negative", "") == "True" else ""
        kept = out.setdefault(tuple(row.keys.items()), Row(row.day, row.keys, {}))
        kept.values[field] = "; ".join(filter(None, [str(kept.values.get(field) or ""), text]))
    return list(out.values())


def _rows(answer: Answer) -> list[dict[str, Any]]:
    return [r for message in answer.records for r in message.get("results") or []]
