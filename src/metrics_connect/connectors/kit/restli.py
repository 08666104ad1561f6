"""The Rest.li 2.0 family (LinkedIn's Marketing and Community Management APIs).

Every call carries `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0`;
structured query values are written in Rest.li 2.0 syntax, `List(a,b)` and
`(key:value,...)`, with each leaf percent-encoded and the syntax characters left as
they are (so `urn:li:sponsoredAccount:1` travels as `urn%3Ali%3AsponsoredAccount%3A1`).
Errors come as `{"status", "serviceErrorCode", "code", "message"}`: the error map reads
`serviceErrorCode` as the code and the text `code` (EXPIRED_ACCESS_TOKEN) as the status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote

import httpx

from metrics_connect.connectors.base import FetchRequest, FetchResult
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.errors import Failure
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.http import KitClient
from metrics_connect.connectors.kit.spec import dig

PROTOCOL_VERSION = "2.0.0"
# What a Rest.li 2.0 value may carry unencoded: its syntax, and leaves already encoded.
_SYNTAX = "(),:%"


def leaf(value: object) -> str:
    """One Rest.li value, percent-encoded (every reserved character, ':' included)."""
    return quote(str(value), safe="")


def restli_list(values: Iterable[object]) -> str:
    return f"List({','.join(leaf(v) for v in values)})"


def restli_date(day: date) -> str:
    return f"(year:{day.year},month:{day.month},day:{day.day})"


def restli_date_range(first: date, last: date) -> str:
    """adAnalytics' dateRange: both ends inclusive days."""
    return f"(start:{restli_date(first)},end:{restli_date(last)})"


def epoch_millis(day: date) -> int:
    """The UTC midnight opening the day, in epoch milliseconds (timeRange bounds)."""
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp() * 1000)


def restli_query(params: Mapping[str, Any]) -> str:
    """The query string, Rest.li 2.0 values kept as written."""
    return "&".join(
        f"{quote(str(k), safe='')}={quote(str(v), safe=_SYNTAX)}" for k, v in params.items()
    )


def restli_headers(version: str) -> dict[str, str]:
    """The headers every call of the family carries: the API version and Rest.li 2.0."""
    return {"LinkedIn-Version": version, "X-Restli-Protocol-Version": PROTOCOL_VERSION}


class RestliClient(KitClient):
    family_name = "LinkedIn API"
    log_fields = ("service_error_code", "upstream_code")

    def family_headers(self) -> dict[str, str]:
        return restli_headers(self.version)

    async def send(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        # httpx would percent-encode the Rest.li syntax: the query is written here.
        query = restli_query(params or {})
        target = f"{path}{'&' if '?' in path else '?'}{query}" if query else path
        return await super().send(endpoint, method, target, params=None, json=json)

    def parse_failure(self, status: int, body: Any) -> Failure:
        if not isinstance(body, dict):
            return Failure(status=status, message=f"HTTP {status}")
        code = body.get("serviceErrorCode")
        return Failure(
            status=status,
            code=int(code) if isinstance(code, int) else None,
            message=str(body.get("message") or f"HTTP {status}"),
            status_text=str(body["code"]) if body.get("code") else None,
        )


# Standardized data and lookups (BATCH_GET by `ids=List(...)`): a URN prefix -> the
# resource and where an answer's `results[id]` keeps the name.
LOOKUPS: dict[str, tuple[str, str]] = {
    "urn:li:geo:": ("/rest/geo", "defaultLocalizedName.value"),
    "urn:li:title:": ("/rest/titles", "name.localized.en_US"),
    "urn:li:industry:": (
        "/rest/industryTaxonomyVersions/DEFAULT/industries",
        "name.localized.en_US",
    ),
    "urn:li:organization:": ("/rest/organizationsLookup", "localizedName"),
}


def lookup_call(prefix: str) -> Call:
    """The planned lookup of the names of an answer's URNs (its ids known only then)."""
    return Call(
        path=LOOKUPS[prefix][0], params={"ids": "List(the answer's ids)"}, requester="names"
    )


async def lookup_names(client: KitClient, prefix: str, urns: Iterable[str]) -> dict[str, str]:
    """Each URN's name (the URN itself where the lookup has none)."""
    path, name_at = LOOKUPS[prefix]
    ids = sorted({u.removeprefix(prefix) for u in urns if u.startswith(prefix)})
    # Asked even with no ids (an empty answer): the plan shows this call.
    body = await client.request("GET", path, {"ids": restli_list(ids)})
    results = body.get("results") or {} if isinstance(body, dict) else {}
    return {f"{prefix}{i}": str(dig(results.get(i) or {}, name_at) or f"{prefix}{i}") for i in ids}


def urns_in(value: Any, prefix: str) -> set[str]:
    """Every string of an answer that starts with the URN prefix."""
    if isinstance(value, str):
        return {value} if value.startswith(prefix) else set()
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(urns_in(v, prefix) for v in value)) if value else set()
    return set()


class RestliConnector(KitConnector):
    """A kit connector of the family: a dataset's `extra.lookups` (breakdown -> [the key
    of its URN, the URN prefix]) plans one more call, the names of the URNs the answers
    carry, asked once the answers are in; `names(answers)` reads them."""

    client_class = RestliClient

    def lookup(self, request: FetchRequest) -> tuple[str, str] | None:
        lookups: dict[str, list[str]] = self.stream(request).extra.get("lookups") or {}
        found = [lookups[b] for b in request.breakdowns if b in lookups]
        return (found[0][0], found[0][1]) if found else None

    def plan(self, request: FetchRequest) -> list[Call]:
        calls = super().plan(request)
        lookup = self.lookup(request) if self.stream(request).kind != "objects" else None
        return [*calls, lookup_call(lookup[1])] if lookup else calls

    async def fetch(self, request: FetchRequest) -> FetchResult:
        lookup = self.lookup(request)
        if lookup is None or self.stream(request).kind == "objects":
            return await super().fetch(request)
        answers: list[Answer] = []
        for call in self.plan(request):
            if call.requester != "names":
                answers.append(await self.run(request, call))
                continue
            urns = urns_in([a.records for a in answers], lookup[1])
            names = await lookup_names(self.client, lookup[1], urns)
            answers.append(Answer(call, [{"urn": u, "name": n} for u, n in names.items()]))
        result = self.result(request, answers)
        result.incomplete_days |= self.incomplete(request)
        return result

    @staticmethod
    def names(answers: list[Answer]) -> dict[str, str]:
        return {
            str(r["urn"]): str(r["name"])
            for a in answers
            if a.call.requester == "names"
            for r in a.records
        }
