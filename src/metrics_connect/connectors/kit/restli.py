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

from metrics_connect.connectors.kit.errors import Failure
from metrics_connect.connectors.kit.http import KitClient

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


class RestliClient(KitClient):
    family_name = "LinkedIn API"
    log_fields = ("service_error_code", "upstream_code")

    def family_headers(self) -> dict[str, str]:
        return {"LinkedIn-Version": self.version, "X-Restli-Protocol-Version": PROTOCOL_VERSION}

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
