"""The client of plain JSON REST APIs: an error body read where the network keeps it.

Pinterest answers `{"code": 2, "message": "Authentication failed."}` at the top of the
body, most others `{"error": {"code", "message"}}`, X a list `{"errors": [{"code",
"message"}]}` (its first error is read): the envelope's `error_path` says which ("" for
the body itself). A numeric code feeds the error map's `code`; a textual
one (`"token_expired"`, HubSpot's `category`: `envelope.code_fields` names where the code
is) is kept as the failure's status text (`status:` in the map).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import httpx

from metrics_connect.connectors.kit.errors import ErrorMap, Failure
from metrics_connect.connectors.kit.http import KitClient
from metrics_connect.connectors.kit.spec import dig


def parse_failure(
    status: int,
    body: Any,
    error_path: str,
    message_fields: tuple[str, ...],
    code_fields: tuple[str, ...] = ("code",),
) -> Failure:
    error = dig(body, error_path) if isinstance(body, dict) else None
    if isinstance(error, list):  # a list of errors (X's `errors`): the first says why
        error = error[0] if error else None
    if not isinstance(error, dict):
        return Failure(status, message=f"HTTP {status}")
    code = next((error[f] for f in code_fields if error.get(f) not in (None, "")), None)
    numeric = isinstance(code, int) and not isinstance(code, bool)
    text = next((str(error[f]) for f in message_fields if error.get(f)), f"HTTP {status}")
    return Failure(
        status,
        code=code if numeric else None,
        status_text=None if numeric or code is None else str(code),
        message=text,
    )


def ratelimit_reset(_: Failure, headers: Mapping[str, str]) -> float | None:
    """X-RateLimit-Reset (or the IETF draft's RateLimit-Reset: Hotmart) as seconds until
    the window renews (Pinterest, GitHub-like epochs aside: a value over a day is taken
    as an epoch and not waited for)."""
    raw = headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset")
    if not raw or not raw.replace(".", "", 1).isdigit():
        return None
    seconds = float(raw)
    return seconds if seconds <= 86400 else None


class JsonRestClient(KitClient):
    family_name = "JSON REST API"
    _resume_at = 0.0  # monotonic time before which no call is sent (pacing)

    def after_response(self, response: httpx.Response) -> None:
        """With `envelope.pace_near_limit_percent`, an answer whose X-RateLimit-Remaining
        shows that share of X-RateLimit-Limit used holds the next call until
        X-RateLimit-Reset (within the retry budget), instead of running into 429s. A
        refusal (429) is waited out by the retry's own retry-after."""
        percent = self.streams.errors.envelope.pace_near_limit_percent
        if percent is None or response.status_code >= 400:
            return
        limit = response.headers.get("x-ratelimit-limit", "")
        remaining = response.headers.get("x-ratelimit-remaining", "")
        if not limit.isdigit() or not remaining.isdigit() or not int(limit):
            return
        reset = ratelimit_reset(Failure(response.status_code), response.headers)
        if reset is not None and 100 * (1 - int(remaining) / int(limit)) >= percent:
            self._resume_at = time.monotonic() + min(reset, self.budget)

    async def before_request(self) -> None:
        wait = self._resume_at - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def error_map(self) -> ErrorMap:
        return ErrorMap(self.streams.errors, {"ratelimit_reset_header": ratelimit_reset})

    def parse_failure(self, status: int, body: Any) -> Failure:
        envelope = self.streams.errors.envelope
        return parse_failure(
            status, body, envelope.error_path, envelope.message_fields, envelope.code_fields
        )
