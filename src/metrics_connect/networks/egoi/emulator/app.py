"""The E-goi Marketing API v3 as the sandbox serves it (docs/networks/egoi.md), after
its OpenAPI description (the official SDKs, E-goi/sdk-python, are generated from it):

- `https://api.egoiapp.com`, the account's API key in the `Apikey` header;
- `GET /my-account` (`general_info`: client id, name), `GET /lists`, `GET /lists/{id}`
  (its `stats`: total, active, inactive, removed, unconfirmed contacts),
  `GET /lists/{id}/contacts` (`{"base": {...}, "extra": []}` items), `GET /campaigns`
  (`channel`, `status`, `list_id`, `order_by`, `order`), `GET /reports/email/{hash}`,
  `GET /reports/sms/{hash}`, `GET /reports/web-push/{hash}`, `GET /automations`;
- collections `{"total_items", "items"}` paged by `offset` and `limit` (1 to 100; 1 to
  1000 for a list's contacts), in id order unless `order_by`/`order` say otherwise;
- errors as Problem Details (`type`, `title`, `status`, `detail`): 401 without a valid
  key, 403 for a key without access, 404, 422 for a bad parameter, 429 Too Many Requests
  with Retry-After, 5xx.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.networks.egoi.emulator.data import Campaign, EgoiData
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.problem import ProblemError

RFC = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/"
REPORT_CHANNEL = {"email": "email", "sms": "sms", "web-push": "web_push"}


class EgoiError(ProblemError):
    type_url = RFC + "{status}"  # MDN's page about the status


_TOKEN_ERRORS = {
    TokenFault.MISSING: (401, "Unauthorized", "Apikey header is missing."),
    TokenFault.FOREIGN: (401, "Unauthorized", "Your Apikey is invalid."),
    # API keys do not expire: a key reset in the account is simply no longer valid.
    TokenFault.EXPIRED: (401, "Unauthorized", "Your Apikey is invalid."),
    TokenFault.REVOKED: (403, "Forbidden", "This Apikey has no permission for this resource."),
}


def _bounded(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        raise EgoiError(422, "Unprocessable Entity", f"{name} must be an integer.") from None
    if not low <= value <= high:
        detail = f"{name} must be between {low} and {high}."
        raise EgoiError(422, "Unprocessable Entity", detail)
    return value


def _page(request: Request, items: list[dict[str, Any]], most: int = 100) -> JSONResponse:
    offset = _bounded(request, "offset", 0, 0, 10**9)
    limit = _bounded(request, "limit", 10, 1, most)
    return JSONResponse({"total_items": len(items), "items": items[offset : offset + limit]})


def _ordered(request: Request, items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    order_by = request.query_params.get("order_by") or key
    if items and order_by not in items[0]:
        raise EgoiError(422, "Unprocessable Entity", f"order_by {order_by} is not allowed.")
    descending = request.query_params.get("order", "desc" if order_by != key else "asc")
    return sorted(items, key=lambda i: str(i[order_by]).zfill(20), reverse=descending == "desc")


class EgoiApp:
    def __init__(self, data: EgoiData, controls: SandboxControls) -> None:
        self.data, self.controls = data, controls

    @property
    def now(self) -> datetime:
        return self.controls.clock.now()

    async def admit(self, request: Request, endpoint: str) -> None:
        controls = self.controls
        controls.calls.record(endpoint)
        await controls.apply_latency()
        fault = controls.token_fault(request.headers.get("apikey"))
        if fault is not None:
            raise EgoiError(*_TOKEN_ERRORS[fault])
        if controls.should_rate_limit():
            wait = str(controls.switches.retry_after_seconds or 60)
            raise EgoiError(
                429, "Too Many Requests", "You have exceeded the request limit.",
                {"Retry-After": wait},
            )  # fmt: skip
        if controls.should_fail():
            raise EgoiError(503, "Service Unavailable", "Service temporarily unavailable.")

    def _list(self, listed: dict[str, Any]) -> dict[str, Any]:
        return {
            "list_id": listed["list_id"],
            "internal_name": listed["internal_name"],
            "public_name": listed["public_name"],
            "language": "pt",
            "status": "active",
            "group_id": 0,
            "created": self.data.local(self.data.start),
            "updated": self.data.local(self.data.start),
        }

    def _found(self, list_id: str) -> dict[str, Any]:
        found = [x for x in self.data.lists if str(x["list_id"]) == list_id]
        if not found:
            raise EgoiError(404, "Not Found", "List not found.")
        return found[0]

    async def my_account(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /my-account")
        account = self.data.account
        return JSONResponse(
            {"general_info": {"client_id": account["client_id"], "name": account["name"],
                              "website": account["website"], "cellphone": None}}
        )  # fmt: skip

    async def lists(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /lists")
        items = [self._list(x) for x in self.data.lists]
        return _page(request, _ordered(request, items, "list_id"))

    async def one_list(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /lists/{list_id}")
        listed = self._found(request.path_params["list_id"])
        statuses = [
            f["status"]
            for _, f in self.data.state("contacts", self.now)
            if f["list_id"] == listed["list_id"]
        ]
        stats = {f"total_{s}": statuses.count(s) for s in ("active", "inactive", "removed")}
        stats |= {"total_contacts": len(statuses), "total_unconfirmed": 0,
                  "total_waiting_new_confirmation": 0}  # fmt: skip
        return JSONResponse({**self._list(listed), "stats": stats})

    async def contacts(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /lists/{list_id}/contacts")
        listed = self._found(request.path_params["list_id"])
        local = self.data.local
        items: list[dict[str, Any]] = [
            {"base": {"contact_id": record.id, "status": f["status"], "consent": "any",
                      "first_name": f["first_name"], "last_name": "", "email": f["email"],
                      "email_status": "active" if f["status"] == "active" else "inactive",
                      "language": "pt", "created": local(record.created),
                      "updated": local(record.modified(self.now))},
             "extra": []}
            for record, f in self.data.state("contacts", self.now)
            if f["list_id"] == listed["list_id"]
        ]  # fmt: skip
        status = request.query_params.get("email_status")
        if status:
            items = [i for i in items if i["base"]["email_status"] == status]
        return _page(request, items, most=1000)

    def _campaign(self, campaign: Campaign) -> dict[str, Any]:
        sent = self.data.local(campaign.sent)
        return {
            "campaign_hash": campaign.hash,
            "status": "sent",
            "channel": campaign.channel,
            "internal_name": campaign.title,
            "list_id": campaign.list_id,
            "title": campaign.title,
            "created_by": 1,
            "group_id": 0,
            "created": sent,
            "updated": sent,
            "start_date": sent,
            "end_date": sent,
            "schedule_date": None,
        }

    async def campaigns(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /campaigns")
        query = request.query_params
        items = [self._campaign(c) for c in self.data.sent_by(self.now)]
        for name in ("channel", "status", "list_id", "campaign_hash"):
            if query.get(name):
                items = [i for i in items if str(i[name]) == query[name]]
        for name, later in (("start_date_min", True), ("start_date_max", False)):
            if query.get(name):
                bound = query[name]
                items = [i for i in items if (i["start_date"] >= bound) == later]
        return _page(request, _ordered(request, items, "created"))

    async def report(self, request: Request) -> JSONResponse:
        kind = request.path_params["kind"]
        await self.admit(request, f"GET /reports/{kind}/{{campaign_hash}}")
        channel = REPORT_CHANNEL.get(kind)
        campaign = self.data.by_hash.get(request.path_params["campaign_hash"])
        if campaign is None or campaign.channel != channel or campaign.sent > self.now:
            raise EgoiError(404, "Not Found", "Campaign not found.")
        figures = self.data.report(campaign, self.now)
        body: dict[str, Any] = {"campaign_hash": campaign.hash, "overall": figures}
        if channel == "sms":
            body["networks"] = []
        elif channel == "web_push":
            body |= {"devices": [], "operating_systems": [], "browsers": [], "url": []}
        return JSONResponse(body)

    async def automations(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /automations")
        items = [
            {"automation_id": int(record.id), "title": f["title"], "list_id": f["list_id"],
             "status": f["status"], "created_by": 1, "allow_multiple_contacts": True,
             "contact_limit": 0, "created": record.created.date().isoformat(),
             "updated": record.modified(self.now).date().isoformat()}
            for record, f in self.data.state("automations", self.now)
        ]  # fmt: skip
        query = request.query_params
        for name in ("status", "list_id"):
            if query.get(name):
                items = [i for i in items if str(i[name]) == query[name]]
        return _page(request, _ordered(request, items, "automation_id"))


def create_app(data: EgoiData, controls: SandboxControls) -> Starlette:
    api = EgoiApp(data, controls)

    def guarded(
        handler: Callable[[Request], Awaitable[JSONResponse]],
    ) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def route(request: Request) -> JSONResponse:
            try:
                return await handler(request)
            except EgoiError as exc:
                return exc.response()

        return route

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return EgoiError(404, "Not Found", "Resource not found.").response()

    app = Starlette(
        routes=[
            Route("/my-account", guarded(api.my_account)),
            Route("/lists", guarded(api.lists)),
            Route("/lists/{list_id}", guarded(api.one_list)),
            Route("/lists/{list_id}/contacts", guarded(api.contacts)),
            Route("/campaigns", guarded(api.campaigns)),
            Route("/reports/{kind}/{campaign_hash}", guarded(api.report)),
            Route("/automations", guarded(api.automations)),
        ],
        exception_handlers={404: not_found},
    )
    app.state.api = api
    return app
