"""The RD Station Marketing API as the sandbox serves it (docs/networks/rd_station.md):

- `GET /platform/analytics/funnels`, `/emails`, `/conversions`, `/workflow_emails` with
  `start_date`/`end_date` (YYYY-MM-DD, both required, start not after end, in the
  account's days): the funnel per `reference_day`; the campaigns sent in the range
  (`send_at`); each asset's and each flow e-mail's figures over the range, with its
  rates (percent of visits, of deliveries); `account_id` and `query_date` around them;
- `GET /marketing/account_info` (`{"name"}`);
- the leads base's segmentations and contacts (`contacts_api.py`);
- bearer tokens; errors `{"errors": {"error_type", "error_message"}}`: 401 UNAUTHORIZED
  (missing or unknown token), 401 EXPIRED_TOKEN, 403 ACCESS_DENIED (app uninstalled),
  400 BAD_REQUEST (dates), 429 TOO_MANY_REQUESTS with Retry-After.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from metrics_connect.networks.rd_station.emulator.data import MarketingData
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.json_rest import credential


class RdError(Exception):
    def __init__(self, status: int, kind: str, message: str, retry: bool = False) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.retry = status, kind, message, retry

    def response(self) -> JSONResponse:
        body = {"errors": {"error_type": self.kind, "error_message": self.message}}
        headers = {"Retry-After": "30"} if self.retry else {}
        return JSONResponse(body, self.status, headers=headers)


_TOKEN_ERRORS = {
    TokenFault.MISSING: (401, "UNAUTHORIZED", "Invalid token."),
    TokenFault.FOREIGN: (401, "UNAUTHORIZED", "Invalid token."),
    TokenFault.EXPIRED: (401, "EXPIRED_TOKEN", "The access token has expired."),
    TokenFault.REVOKED: (403, "ACCESS_DENIED", "The app no longer has access to this account."),
}


def _rate(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


class MarketingApp:
    def __init__(self, data: MarketingData, controls: SandboxControls) -> None:
        self.data, self.controls = data, controls

    async def admit(self, request: Request, endpoint: str) -> tuple[date, date] | None:
        controls = self.controls
        controls.calls.record(endpoint)
        await controls.apply_latency()
        fault = controls.token_fault(credential(request))
        if fault is not None:
            raise RdError(*_TOKEN_ERRORS[fault])
        if controls.should_rate_limit():
            raise RdError(429, "TOO_MANY_REQUESTS", "Rate limit exceeded.", retry=True)
        if controls.should_fail():
            raise RdError(503, "SERVICE_UNAVAILABLE", "Try again later.")
        if "analytics" not in endpoint:
            return None
        try:
            start = date.fromisoformat(request.query_params["start_date"])
            end = date.fromisoformat(request.query_params["end_date"])
        except (KeyError, ValueError):
            raise RdError(400, "BAD_REQUEST", "start_date and end_date (YYYY-MM-DD).") from None
        today = self.controls.clock.now().date()
        if start > end:
            raise RdError(400, "BAD_REQUEST", "start_date must not be after end_date.")
        return start, min(end, today)

    def _envelope(self, start: date, end: date, **items: Any) -> JSONResponse:
        query = {"start_date": start.isoformat(), "end_date": end.isoformat()}
        return JSONResponse(
            {"account_id": self.data.account["account_id"], "query_date": query, **items}
        )

    async def analytics(self, request: Request) -> JSONResponse:
        name = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        span = await self.admit(request, f"GET /platform/analytics/{name}")
        assert span is not None
        start, end = span
        days = [self.data.day(d) for d in self.data.days(start, end)]
        if name == "funnels":
            return self._envelope(start, end, funnel=[d["funnel"] for d in days])
        if name == "emails":
            emails = [
                {
                    **c,
                    "email_delivered_rate": _rate(c["email_delivered_count"], c["contacts_count"]),
                    "email_opened_rate": _rate(
                        c["email_opened_unique_count"], c["email_delivered_count"]
                    ),
                    "email_clicked_rate": _rate(
                        c["email_clicked_unique_count"], c["email_delivered_count"]
                    ),
                    "email_spam_reported_rate": _rate(
                        c["email_spam_reported_count"], c["email_delivered_count"]
                    ),
                }
                for d in days
                for c in d["campaigns"]
            ]
            return self._envelope(start, end, emails=emails)
        if name == "conversions":
            out = []
            for asset in self.data.spec["assets"]:
                visits = sum(d["assets"][asset["asset_id"]][0] for d in days)
                converted = sum(d["assets"][asset["asset_id"]][1] for d in days)
                out.append(
                    {
                        "asset_id": asset["asset_id"],
                        "asset_identifier": asset["asset_identifier"],
                        "asset_type": asset["asset_type"],
                        "asset_created_at": "2024-01-10T12:00:00.000Z",
                        "asset_updated_at": "2026-06-02T12:00:00.000Z",
                        "visits_count": visits,
                        "conversion_count": converted,
                        "conversion_rate": _rate(converted, visits),
                    }
                )
            return self._envelope(start, end, conversions=out)
        if name == "workflow_emails":
            stats = []
            for flow in self.data.spec["workflows"]:
                for email in flow["emails"]:
                    key = (flow["workflow_id"], email)
                    delivered, opened, clicked = (
                        sum(d["flows"][key][i] for d in days) for i in range(3)
                    )
                    stats.append(
                        {
                            "workflow_id": flow["workflow_id"],
                            "workflow_name": flow["workflow_name"],
                            "email_name": email,
                            "email_delivered_count": delivered,
                            "email_opened_unique_count": opened,
                            "email_clicked_unique_count": clicked,
                            "email_delivered_rate": 100.0 if delivered else 0.0,
                            "email_opened_rate": _rate(opened, delivered),
                            "email_clicked_rate": _rate(clicked, delivered),
                            "updated_at": "2026-05-14T12:00:00.000Z",
                        }
                    )
            return self._envelope(start, end, workflow_email_statistics=stats)
        raise RdError(404, "RESOURCE_NOT_FOUND", "Not found.")

    async def account_info(self, request: Request) -> JSONResponse:
        await self.admit(request, "GET /marketing/account_info")
        return JSONResponse({"name": self.data.account["name"]})


def guarded(handler: Any) -> Any:
    """A route answering the API's error body for an RdError."""

    async def route(request: Request) -> JSONResponse:
        try:
            response: JSONResponse = await handler(request)
            return response
        except RdError as exc:
            return exc.response()

    return route
