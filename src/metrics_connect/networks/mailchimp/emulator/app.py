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
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.networks.mailchimp.emulator.data import MailchimpData
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.field_paths import select_fields
from metrics_connect.sandbox.kit.params import instant_param
from metrics_connect.sandbox.kit.problem import ProblemError
from metrics_connect.sandbox.kit.spec import load_spec

MAX_COUNT = 1000
# Each refusal's status, title and detail (a template), and each token fault's refusal.
ERRORS = load_spec(__package__ or "", "data.yaml", "errors", dict[str, tuple[int, str, str]])
TOKEN_ERRORS = load_spec(__package__ or "", "data.yaml", "token_errors", dict[str, str])


class MailchimpError(ProblemError):
    type_url = "https://mailchimp.com/developer/marketing/docs/errors/"
    with_instance = True


def refusal(error: str, **values: Any) -> MailchimpError:
    status, title, detail = ERRORS[error]
    return MailchimpError(status, title, detail.format(**values))


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
        raise refusal("not_integers") from None
    if count > MAX_COUNT or count < 0 or offset < 0:
        raise refusal("count_too_large", most=MAX_COUNT)
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
    invalid = refusal("not_an_instant", name=name)
    return instant_param(request.query_params.get(name), lambda _: invalid)


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
            lambda fault: refusal(TOKEN_ERRORS[fault.value]),
            lambda: refusal("too_many"),
            lambda: refusal("failed"),
        )

    async def root(self, request: Request) -> dict[str, Any]:
        account = self.data.account
        shown = ("account_id", "login_id", "account_name", "email", "account_timezone")
        return (
            {k: account[k] for k in shown}
            | self.data.spec["root_fields"]
            | {
                "total_subscribers": sum(
                    self.data.members(lst, self.now) for lst in self.data.lists
                ),
                "_links": [],
            }
        )

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
            raise refusal("not_found")
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
            raise refusal("not_found")
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
                q = request.query_params
                body = await handler(request)
                return JSONResponse(select_fields(body, q.get("fields"), q.get("exclude_fields")))
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
