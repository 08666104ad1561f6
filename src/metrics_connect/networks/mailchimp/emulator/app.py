"""The Mailchimp Marketing API 3.0 as the sandbox serves it (docs/networks/mailchimp.md):

- `GET /3.0/` (the account: name, time zone), `GET /3.0/reports` (`count` at most 1000,
  `offset`, `since_send_time`/`before_send_time`, `type`, `fields`/`exclude_fields`;
  `{"reports", "total_items", "_links"}`, newest first), `GET /3.0/reports/{id}`,
  `GET /3.0/reports/{id}/open-details` (`since`, `count`, `offset`; `members` with
  their `opens`, `total_opens`), `GET /3.0/lists`, `GET /3.0/lists/{id}`,
  `GET /3.0/lists/{id}/growth-history` (months, newest first).
- The login host's `GET /oauth2/metadata`: the token's data center and `api_endpoint`
  (here: this emulator's own URL).
- `Authorization: Bearer <token>` or `OAuth <token>` (OAuth 2 access tokens, which
  never expire) or HTTP Basic `anystring:<api key>`; errors are Problem Details
  (`application/problem+json`: `type`, `title`, `status`, `detail`, `instance`).
  Mailchimp allows 10 simultaneous connections per account: the rate-limit switch
  answers its 429.
"""

from __future__ import annotations

import base64
import functools
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.networks.mailchimp.emulator.data import MailchimpData
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.params import instant_param

MAX_COUNT = 1000
DOCS = "https://mailchimp.com/developer/marketing/docs/errors/"


class MailchimpError(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail

    def response(self) -> JSONResponse:
        body = {
            "type": DOCS,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": str(uuid.uuid4()),
        }
        return JSONResponse(body, self.status, media_type="application/problem+json")


_INVALID = (
    401,
    "API Key Invalid",
    "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
)
_TOO_MANY = "You have exceeded the limit of 10 simultaneous connections."
_NOT_FOUND = (404, "Resource Not Found", "The requested resource could not be found.")
_TOKEN_ERRORS = {
    TokenFault.MISSING: (401, "API Key Missing", "Your request did not include an API key."),
    TokenFault.FOREIGN: _INVALID,
    # Tokens never expire: one no longer valid was revoked (the app was disconnected).
    TokenFault.EXPIRED: _INVALID,
    TokenFault.REVOKED: (403, "User Disabled", "This account has been disabled."),
}


def token_of(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    if scheme.lower() == "basic":
        try:
            _, _, key = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return None
        # An API key ends with its data center ("-us21").
        return key.rsplit("-", 1)[0] if re.search(r"-[a-z]{2,4}\d+$", key) else key or None
    return None


def _count(request: Request) -> tuple[int, int]:
    try:
        count = int(request.query_params.get("count", "10"))
        offset = int(request.query_params.get("offset", "0"))
    except ValueError:
        raise MailchimpError(
            400, "Invalid Resource", "count and offset must be integers."
        ) from None
    if count > MAX_COUNT or count < 0 or offset < 0:
        raise MailchimpError(400, "Invalid Resource", f"count may be at most {MAX_COUNT}.")
    return count, offset


def _collection(
    page: tuple[int, int], key: str, items: list[Any], shape: Any = None, **extra: Any
) -> dict[str, Any]:
    """A page (`count`, `offset`) of a collection, with its `total_items`."""
    count, offset = page
    shown = items[offset : offset + count]
    listed = [shape(item) for item in shown] if shape else shown
    return {key: listed, **extra, "total_items": len(items), "_links": []}


def _instant(request: Request, name: str) -> datetime | None:
    invalid = MailchimpError(400, "Invalid Resource", f"{name} is not an ISO 8601 time.")
    return instant_param(request.query_params.get(name), lambda _: invalid)


def _shape(body: dict[str, Any], request: Request) -> dict[str, Any]:
    """`fields` / `exclude_fields`: dotted paths, the collection's key included."""

    def keep(node: Any, paths: list[list[str]], include: bool) -> Any:
        if isinstance(node, list):
            return [keep(n, paths, include) for n in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            below = [p[1:] for p in paths if p and p[0] == key]
            if include and not below:
                continue
            if not include and [] in below:
                continue
            deeper = [p for p in below if p]
            out[key] = keep(value, deeper, include) if deeper or not include else value
        return out

    fields = request.query_params.get("fields")
    excluded = request.query_params.get("exclude_fields")
    if fields:
        body = keep(body, [f.split(".") for f in fields.split(",")], True)
    if excluded:
        body = keep(body, [f.split(".") for f in excluded.split(",")], False)
    return body


class MailchimpApp:
    def __init__(self, data: MailchimpData, controls: SandboxControls) -> None:
        self.data = data
        self.controls = controls

    @property
    def now(self) -> datetime:
        return self.controls.clock.now()

    async def admit(self, request: Request, endpoint: str) -> None:
        await self.controls.admit(
            endpoint,
            token_of(request),
            lambda fault: MailchimpError(*_TOKEN_ERRORS[fault]),
            lambda: MailchimpError(429, "Too Many Requests", _TOO_MANY),
            lambda: MailchimpError(500, "Internal Server Error", "An unexpected error occurred."),
        )

    async def root(self, request: Request) -> dict[str, Any]:
        account = self.data.account
        shown = ("account_id", "login_id", "account_name", "email", "account_timezone")
        return {k: account[k] for k in shown} | {
            "role": "owner",
            "pricing_plan_type": "monthly",
            "total_subscribers": sum(self.data.members(lst, self.now) for lst in self.data.lists),
            "_links": [],
        }

    async def metadata(self, request: Request) -> dict[str, Any]:
        account = self.data.account
        base = str(request.base_url).rstrip("/")
        return {
            "dc": account["dc"],
            "role": "owner",
            "accountname": account["account_name"],
            "user_id": int(account["login_id"]),
            "login": {"email": account["email"], "login_id": int(account["login_id"])},
            "login_url": base,
            "api_endpoint": base,
        }

    async def reports(self, request: Request) -> dict[str, Any]:
        page = _count(request)
        since, before = _instant(request, "since_send_time"), _instant(request, "before_send_time")
        kind = request.query_params.get("type")
        sent = [
            c
            for c in self.data.sent(self.now)
            if (since is None or c.send_time >= since)
            and (before is None or c.send_time < before)
            and kind in (None, "", "regular")
        ]
        sent.sort(key=lambda c: c.send_time, reverse=True)
        return _collection(page, "reports", sent, lambda c: self.data.report(c, self.now))

    def _campaign(self, request: Request) -> Any:
        campaign = self.data.campaign(request.path_params["id"], self.now)
        if campaign is None:
            raise MailchimpError(*_NOT_FOUND)
        return campaign

    async def report(self, request: Request) -> dict[str, Any]:
        return self.data.report(self._campaign(request), self.now)

    async def open_details(self, request: Request) -> dict[str, Any]:
        page = _count(request)
        body = self.data.open_details(self._campaign(request), self.now, _instant(request, "since"))
        opens = sum(m["opens_count"] for m in body["members"])
        totals = {"total_opens": opens, "total_proxy_excluded_opens": opens}
        return body | _collection(page, "members", body["members"], **totals)

    def _list(self, request: Request) -> dict[str, Any]:
        found = next((x for x in self.data.lists if x["id"] == request.path_params["id"]), None)
        if found is None:
            raise MailchimpError(*_NOT_FOUND)
        return found

    async def lists(self, request: Request) -> dict[str, Any]:
        page = _count(request)
        return _collection(
            page, "lists", self.data.lists, lambda x: self.data.list_body(x, self.now)
        )

    async def one_list(self, request: Request) -> dict[str, Any]:
        return self.data.list_body(self._list(request), self.now)

    async def growth_history(self, request: Request) -> dict[str, Any]:
        page = _count(request)
        lst = self._list(request)
        months = self.data.growth_history(lst, self.now)
        return _collection(page, "history", months, list_id=lst["id"])


def create_app(data: MailchimpData, controls: SandboxControls) -> Starlette:
    api = MailchimpApp(data, controls)

    def route(
        path: str, endpoint: str, handler: Callable[[Request], Awaitable[dict[str, Any]]]
    ) -> Route:
        @functools.wraps(handler)
        async def serve(request: Request) -> JSONResponse:
            try:
                await api.admit(request, endpoint)
                return JSONResponse(_shape(await handler(request), request))
            except MailchimpError as exc:
                return exc.response()

        return Route(path, serve, methods=["GET"])

    app = Starlette(
        routes=[
            route("/3.0/", "root", api.root),
            route("/3.0", "root", api.root),
            route("/oauth2/metadata", "metadata", api.metadata),
            route("/3.0/reports", "reports", api.reports),
            route("/3.0/reports/{id}", "report", api.report),
            route("/3.0/reports/{id}/open-details", "open-details", api.open_details),
            route("/3.0/lists", "lists", api.lists),
            route("/3.0/lists/{id}", "list", api.one_list),
            route("/3.0/lists/{id}/growth-history", "growth-history", api.growth_history),
        ]
    )
    app.state.api = api
    return app
