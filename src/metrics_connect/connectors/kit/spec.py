"""The `streams.yaml` format: one network's datasets as data, validated by pydantic.

Words borrowed from Airbyte's low-code manifests and dlt's `rest_api`: each dataset
(stream) has requesters (method, path and parameter templates), a window (largest span
per call, how far back the network serves, date encoding), a paginator, a record
selector with a field map, and optionally an asynchronous report; the network has one
error map (HTTP status or upstream code -> what it means). See docs/adding-a-network.md.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from metrics_connect import safe_yaml
from metrics_connect.connectors.base import DatasetKind, DatasetSpec

_RANGE = re.compile(r"^(-?\d+)-(-?\d+)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Auth(_Strict):
    """Where the access token goes: a query/form parameter, a Bearer header, a header of
    its own (`placement: header, param: Access-Token`, TikTok's API for Business), or an
    OAuth 1.0a signature (HMAC-SHA1 with the consumer key and secret of `oauth1_provider`'s
    settings, <name>_client_id / <name>_client_secret, and the user's token and secret)."""

    placement: Literal["query", "bearer", "header", "oauth1"] = "query"
    param: str = "access_token"
    oauth1_provider: str | None = None
    # OAuth 2 refresh (RFC 6749 §6) on an expired answer: setting names of the token URL
    # and the client credentials. None: tokens are not refreshed (Meta's long-lived ones).
    refresh_token_url_setting: str | None = None
    refresh_client_id_setting: str | None = None
    refresh_client_secret_setting: str | None = None
    # Or refresh through a declared OAuth provider (its token URL, client settings and
    # `refresh` hook): `refresh_provider: linkedin_login`. Wins over the settings above.
    refresh_provider: str | None = None


class Quota(_Strict):
    """A documented upstream quota we keep on our side (kit/quotas.py), per account."""

    per_second: int | None = None
    per_minute: int | None = None
    per_hour: int | None = None
    # Requests in flight at once per account (GA4: 10 per property), per process.
    concurrent: int | None = None


class Api(_Strict):
    family: Literal["meta_graph", "google", "json_rest", "restli"]
    # The setting holding the API version (`{version}` in paths) and its default.
    version_setting: str | None = None
    default_version: str = ""
    auth: Auth = Auth()
    # None: the network tells us when to slow down (Meta's usage headers, Google's
    # RESOURCE_EXHAUSTED); nothing is counted on our side.
    quota: Quota | None = None


class ErrorRule(_Strict):
    """One entry of the error map: every condition given must match (first rule wins)."""

    # HTTP statuses and upstream codes: numbers or ranges "500-599", "80000-80014".
    http_status: tuple[int | str, ...] = ()
    code: tuple[int | str, ...] = ()
    subcode: tuple[int, ...] = ()
    status: tuple[str, ...] = ()  # Google's error.status ("RESOURCE_EXHAUSTED")
    transient_flag: bool | None = None  # Graph's error.is_transient
    no_code: bool | None = None  # the answer carried no upstream code
    message_contains: tuple[str, ...] = ()  # any of (case-insensitive)
    outcome: Literal[
        "expired", "revoked", "rate_limited", "transient", "bad_request", "too_much_data"
    ]
    # Where a rate limit's retry-after comes from, first found wins: "usage_headers"
    # (Meta), "retry_after_header", "quota_renewal" (Google's hourly/daily buckets).
    # "ratelimit_reset_header": X-RateLimit-Reset in seconds (JSON REST APIs, Pinterest);
    # "reset_epoch_header": x-rate-limit-reset, the epoch second the window renews (X).
    # "reset_milliseconds_header": x-rate-limit-reset, milliseconds until a leaky bucket
    # is empty (Nuvemshop).
    retry_after: tuple[
        Literal[
            "usage_headers",
            "retry_after_header",
            "quota_renewal",
            "ratelimit_reset_header",
            "reset_epoch_header",
            "reset_milliseconds_header",
        ],
        ...,
    ] = ()
    # A rate limit not worth retrying within the budget (renews at the next hour/day).
    retryable: bool = True

    @field_validator("code", "http_status")
    @classmethod
    def _codes(cls, codes: tuple[int | str, ...]) -> tuple[int | str, ...]:
        for code in codes:
            if isinstance(code, str) and not _RANGE.match(code):
                raise ValueError(f"{code!r} is neither a number nor a range like 500-599")
        return codes

    def codes(self) -> frozenset[int]:
        return _numbers(self.code)

    def statuses(self) -> frozenset[int]:
        return _numbers(self.http_status)


def _numbers(items: tuple[int | str, ...]) -> frozenset[int]:
    out: set[int] = set()
    for item in items:
        if isinstance(item, int):
            out.add(item)
        else:
            match = _RANGE.match(item)
            assert match is not None
            out.update(range(int(match.group(1)), int(match.group(2)) + 1))
    return frozenset(out)


class Envelope(_Strict):
    """How the family's error body is read: which fields carry the message, a prefix."""

    message_fields: tuple[str, ...] = ("message",)
    message_prefix: str = ""
    # json_rest: where the error object is in the body ("" for the body itself).
    error_path: str = "error"
    # Response headers carrying Meta's usage percentages and time to regain access.
    usage_headers: tuple[str, ...] = ()
    # json_rest: the fields of the error object carrying its code, first present wins
    # (HubSpot's text `category`); a number feeds the map's `code`, a text its `status`.
    code_fields: tuple[str, ...] = ("code",)
    # Slow down when a usage header reaches this share of the quota (None: never).
    pace_near_limit_percent: float | None = None
    pace_seconds: float = 1.0


class Errors(_Strict):
    envelope: Envelope = Envelope()
    map: tuple[ErrorRule, ...] = ()


class Window(_Strict):
    """How a request's days become calls."""

    max_days: int | None = None  # largest span of one call, in local days
    max_seconds: int | None = None  # ... and in seconds (a DST day is 25 hours)
    # The network serves only the last N whole days (clip the request to them).
    serves_last_days: int | None = None
    until: Literal["any", "yesterday"] = "any"  # the last day the network serves
    # Only days at least this many days before today (the older days another requester
    # of the dataset serves: Pinterest's reports beyond its synchronous 90 days).
    until_days_ago: int | None = None
    now_only: bool = False  # "now" only: no call unless the request covers today
    # {since}/{until}: unix seconds of the local midnights around the days, or ISO days.
    encoding: Literal["unix_local_midnight", "iso_date"] = "iso_date"


class Paginator(_Strict):
    type: Literal[
        "none", "cursor", "offset_total", "offset", "page_number", "page_token", "link_header"
    ] = "none"
    page_size: int | None = None
    page_size_param: str = "limit"
    # cursor / page_token: where the next cursor is in the body, and the parameter taking it.
    cursor_path: str = "paging.cursors.after"
    next_path: str | None = "paging.next"  # cursor: no next link, no next page
    param: str = "after"
    # Graph's `paging.next` carries the whole next query: keep its parameters too.
    merge_next_query: bool = False
    # offset_total / offset: the offset parameter and where the total is (offset: none,
    # the last page is the first one shorter than page_size).
    offset_param: str = "offset"
    total_path: str = "rowCount"
    # offset_total / offset in a JSON body (Google runReport, Search Console) or the query.
    in_body: bool = False
    max_pages: int = 1000


class Packing(_Strict):
    """A dashboard's fetches packed into shared requests (kit/packing.py): the date ranges
    and fields one request takes, the requests one call carries, and the dimensions that,
    asked or filtered on, keep a request to the fetches of one dataset."""

    max_ranges: int
    max_fields: int
    per_call: int = 1
    one_dataset_with: tuple[str, ...] = ()


class Selector(_Strict):
    """Where the records are in an answer, and renames of their fields."""

    records: str = "data"  # dotted path; "" for the body itself
    field_map: dict[str, str] = {}


class Poll(_Strict):
    path: str
    status_field: str
    completed: tuple[str, ...]
    failed: tuple[str, ...]
    delays: tuple[float, ...] = (0.0, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0)
    # The whole report's time: this many times the retry budget (at least 5 s).
    budget_factor: float = 3.0


class AsyncReport(_Strict):
    """Create a report job, poll its status, download its rows."""

    # Above this many expected rows the planned call is the job's creation; a synchronous
    # answer in the error map's `too_much_data` reruns it as a job too.
    when_rows_over: int
    id_field: str
    poll: Poll
    download_path: str
    download_paginator: Paginator = Paginator(type="cursor", merge_next_query=True)


class Requester(_Strict):
    """One kind of call of a dataset. Templates take `{name}` variables (see executor)."""

    name: str = "main"
    method: Literal["GET", "POST"] = "GET"
    path: str
    params: dict[str, str] = {}  # a parameter rendering to "" is left out
    window: Window = Window()
    # Graph batch requests: one operation per window, this many per HTTP call.
    batch: int | None = None
    paginator: Paginator = Paginator()
    selector: Selector = Selector()


class InsightRead(_Strict):
    """One read of a listed object's insights: an edge under the object's id."""

    path: str = "insights"
    params: dict[str, str] = {}


class ObjectInsights(_Strict):
    """The insights of listed objects, read after the listing in Graph batch requests
    (50 operations a call): what explain plans before the listing says how many."""

    # Each object's reads, in order; none: one read whose metrics the hooks choose (they
    # depend on the object).
    reads: tuple[InsightRead, ...] = ()
    # Or every live object is listed and all their insights are multi-id reads (`?ids=`)
    # in one batch, whatever their number.
    multi_id: bool = False
    # Explain's words for the batch's operations when no estimate counts the objects.
    unplanned: str

    @property
    def per_object(self) -> int:
        return len(self.reads) or 1


class ObjectMap(_Strict):
    """How a listed object (a post, a story) becomes an ObjectRow."""

    id: str = "id"
    created: str  # its timestamp: its day in the account's time zone, and `created_at`
    attributes: tuple[str, ...] = ()  # text fields kept when present
    values: tuple[str, ...] = ()  # numbers the listing itself carries
    insights: ObjectInsights | None = None


class Stream(_Strict):
    """One dataset: the engine's facts (DatasetSpec) and how to fetch it."""

    kind: DatasetKind
    fields: tuple[str, ...]
    breakdowns: tuple[str, ...] = ()
    settle_after_days: int = 2
    fresh_seconds: int = 3600
    live_days: int | None = None
    # The engine fetches in chunks of this many days (concurrently); a requester's
    # window may split further.
    max_days_per_call: int | None = None
    counted_by: tuple[str, str] | None = None
    filters_breakdowns_upstream: bool = False
    description: str = ""
    # The last N days through today are not complete yet when a fetch covers them
    # (1: today, still growing; 2: data that arrives a day late; 0: "now" snapshots),
    # and days after today, where the network answers them, neither.
    incomplete_days: int = 1
    incomplete_future: bool = False
    # Records datasets (docs/records.md): the instants a metric may count by, and the
    # money fields with the field naming their currency.
    record_dates: tuple[str, ...] = ()
    currency_field: str | None = None
    money_fields: tuple[str, ...] = ()
    # How the dataset is fetched; none: the hooks fetch it (listings of objects).
    requesters: tuple[Requester, ...] = ()
    async_report: AsyncReport | None = None
    objects: ObjectMap | None = None
    # Fields computed as one field minus another ({net: [gained, lost]}) once answered;
    # the network is not asked for them.
    differences: dict[str, tuple[str, str]] = {}
    # Datasets of one scope may share a request (`packing`); none: only its own fetches.
    pack_scope: str | None = None
    # Dataset-specific knobs for the hooks (metric lists by version, say).
    extra: dict[str, Any] = {}

    @model_validator(mode="after")
    def _requesters_by_name(self) -> Stream:
        names = [r.name for r in self.requesters]
        if len(names) != len(set(names)):
            raise ValueError(f"requester names repeat: {names}")
        if self.objects is not None and "list" not in names:
            raise ValueError("an objects map needs the listing: a requester named 'list'")
        return self

    @property
    def asked_fields(self) -> tuple[str, ...]:
        """The fields the network is asked for: all but the differences."""
        return tuple(f for f in self.fields if f not in self.differences)


class AccountNode(_Strict):
    """The account's own node, which `account_info` reads: its name (the first of
    `name_fields` present, else the node's id), and its time zone and currency where the
    node has them (else the connection's time zone, and none)."""

    node_prefix: str = ""  # the node's id is the account's with this prefix (act_<id>)
    fields: tuple[str, ...] = ("id", "name")
    name_fields: tuple[str, ...] = ("name",)
    timezone_field: str | None = None
    currency_field: str | None = None


class Streams(_Strict):
    network: str
    log_name: str = ""  # how failure logs name the network (default: `network`)
    api: Api
    account: AccountNode = AccountNode()
    errors: Errors = Errors()
    # Named lists of fields; a dataset's field (or breakdown) "prefix@group" expands to
    # prefix + each member of the group.
    field_groups: dict[str, tuple[str, ...]] = {}
    datasets: dict[str, Stream]
    packing: Packing | None = None
    # Network-wide knobs for the hooks.
    extra: dict[str, Any] = {}

    @model_validator(mode="before")
    @classmethod
    def _expand_groups(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        # Keys starting "x-" only hold YAML anchors for the datasets to merge.
        data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
        groups = data.get("field_groups") or {}
        for name, stream in (data.get("datasets") or {}).items():
            for key in ("fields", "breakdowns"):
                if isinstance(stream, dict) and isinstance(stream.get(key), list):
                    stream[key] = _expand(stream[key], groups, f"datasets.{name}.{key}")
        return data

    def dataset_specs(self) -> dict[str, DatasetSpec]:
        return {
            name: DatasetSpec(
                name=name,
                kind=s.kind,
                fields=s.fields,
                breakdowns=s.breakdowns,
                settle_after_days=s.settle_after_days,
                fresh_seconds=s.fresh_seconds,
                max_days_per_call=s.max_days_per_call,
                live_days=s.live_days,
                description=s.description.strip(),
                counted_by=s.counted_by,
                filters_breakdowns_upstream=s.filters_breakdowns_upstream,
                record_dates=s.record_dates,
                currency_field=s.currency_field,
                money_fields=s.money_fields,
            )
            for name, s in self.datasets.items()
        }

    def requester(self, dataset: str, name: str = "main") -> Requester:
        for requester in self.datasets[dataset].requesters:
            if requester.name == name:
                return requester
        raise KeyError(f"{self.network}.{dataset} has no requester {name!r}")


def _expand(fields: list[Any], groups: dict[str, Any], where: str) -> list[str]:
    out: list[str] = []
    for field in fields:
        text = str(field)
        prefix, at, group = text.partition("@")
        if not at:
            out.append(text)
            continue
        if group not in groups:
            raise ValueError(f"{where}: unknown field group {group!r}")
        out.extend(f"{prefix}{member}" for member in groups[group])
    return out


class StreamsError(ValueError):
    """A streams.yaml that does not validate: which file, and what is wrong where."""


def load_streams(path: Path) -> Streams:
    try:
        raw = safe_yaml.load(path.read_text(encoding="utf-8"))
        return Streams.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError, ValueError) as exc:
        raise StreamsError(f"{path}: {exc}") from exc


@cache
def streams_of(package_file: str) -> Streams:
    """The streams.yaml beside a network's module (pass its `__file__`), loaded once."""
    return load_streams(Path(package_file).with_name("streams.yaml"))


def dig(body: Any, path: str) -> Any:
    """body["a"]["b"] for "a.b"; None where a step is missing; the body itself for ""."""
    value = body
    for step in filter(None, path.split(".")):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value
