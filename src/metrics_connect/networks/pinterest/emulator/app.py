"""The emulated Pinterest API v5 for a business account's organic figures:

- GET /v5/user_account                   the account (follower, pin and board counts now)
- GET /v5/user_account/analytics         daily metrics (metric_types, split_field
                                         NO_SPLIT/APP_TYPE/PIN_FORMAT, app_types, pin_format)
- GET /v5/pins                           the account's pins, newest first (bookmark paging)
- GET /v5/pins/{pin_id}/analytics        one pin's daily metrics
- GET /v5/boards                         its boards (bookmark paging)

Analytics reach back 90 days (UTC) over at most 90 days; the last two days are
PROCESSING. The answer is keyed by split value ("all" without a split), each with
`daily_metrics` ([{date, data_status, metrics}]) and `summary_metrics`. Errors are
Pinterest's `{"code", "message"}` (401 code 2, 403 code 29, 400 code 1, 429 code 8 with
X-RateLimit-Reset, 503). Counter names: user_account.get, user_account.analytics,
pins.list, pins.analytics, boards.list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from metrics_connect.networks.pinterest.emulator import data
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault
from metrics_connect.sandbox.kit.json_rest import credential

DAYS_BACK, MAX_DAYS, PROCESSING_DAYS = 90, 90, 2
RATE_LIMIT = 1000
SPLITS = {"NO_SPLIT", "APP_TYPE", "PIN_FORMAT"}


class PinterestError(Exception):
    def __init__(
        self, status: int, code: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def bad(message: str) -> PinterestError:
    return PinterestError(400, 1, f"Invalid parameters. {message}")


@dataclass
class PinterestEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)

    def today(self) -> date:
        return self.controls.clock.now().date()


def span(query: dict[str, str], today: date) -> list[date]:
    try:
        start, end = date.fromisoformat(query["start_date"]), date.fromisoformat(query["end_date"])
    except (KeyError, ValueError):
        raise bad("start_date and end_date are dates YYYY-MM-DD.") from None
    if end < start or end > today:
        raise bad("end_date must be between start_date and today.")
    if start < today - timedelta(days=DAYS_BACK):
        raise bad(f"start_date cannot be more than {DAYS_BACK} days back from today.")
    if (end - start).days > MAX_DAYS:
        raise bad(f"end_date cannot be more than {MAX_DAYS} days past start_date.")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def metric_types(query: dict[str, str]) -> list[str]:
    asked = [m for m in (query.get("metric_types") or "").split(",") if m]
    known = set(data.COUNTED) | set(data.RATES)
    unknown = [m for m in asked if m not in known]
    if unknown:
        raise bad(f"Unknown metric_types: {', '.join(unknown)}.")
    return asked or sorted(known)


def series(
    days: list[date], today: date, by_day: dict[date, dict[str, int]], asked: list[str]
) -> dict[str, Any]:
    daily, summary = [], dict.fromkeys(data.COUNTED, 0)
    for day in days:
        values = by_day.get(day, dict.fromkeys(data.COUNTED, 0))
        status = "PROCESSING" if day > today - timedelta(days=PROCESSING_DAYS) else "READY"
        daily.append(
            {
                "date": day.isoformat(),
                "data_status": status,
                "metrics": data.with_rates(values, asked),
            }
        )
        for metric in data.COUNTED:
            summary[metric] += values[metric]
    return {"daily_metrics": daily, "summary_metrics": data.with_rates(summary, asked)}


def create_app(emulator: PinterestEmulator) -> FastAPI:
    app = FastAPI(title="Pinterest API v5 (sandbox)", docs_url=None, redoc_url=None)
    controls = emulator.controls

    async def gate(request: Request, endpoint: str) -> None:
        controls.calls.record(endpoint)
        await controls.apply_latency()
        fault = controls.token_fault(credential(request, "X-Unused"))
        if fault is TokenFault.REVOKED:
            raise PinterestError(403, 29, "You are not permitted to access that resource.")
        if fault is not None:
            raise PinterestError(401, 2, "Authentication failed.")
        if controls.should_rate_limit():
            wait = str(controls.switches.retry_after_seconds)
            headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": wait}
            raise PinterestError(
                429, 8, "You have exceeded your rate limit. Try again later.", headers
            )
        if controls.should_fail():
            raise PinterestError(503, 0, "Something went wrong on our end. Sorry about that.")

    @app.middleware("http")
    async def rate_limit_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["X-RateLimit-Limit"] = str(RATE_LIMIT)
        remaining = str(RATE_LIMIT - controls.calls.total % RATE_LIMIT)
        response.headers.setdefault("X-RateLimit-Remaining", remaining)
        return response

    @app.exception_handler(PinterestError)
    async def pinterest_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PinterestError)
        body = {"code": exc.code, "message": exc.message}
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    def page(request: Request, items: list[dict[str, Any]]) -> dict[str, Any]:
        size = int(request.query_params.get("page_size") or 25)
        if not 1 <= size <= 250:
            raise bad("page_size must be between 1 and 250.")
        offset = int(request.query_params.get("bookmark") or 0)
        following = offset + size
        bookmark = str(following) if following < len(items) else None
        return {"items": items[offset:following], "bookmark": bookmark}

    @app.get("/v5/user_account")
    async def user_account(request: Request) -> dict[str, Any]:
        await gate(request, "user_account.get")
        now, user = controls.clock.now(), data.USER
        return {
            "account_type": "BUSINESS",
            "id": user.id,
            "username": user.username,
            "business_name": user.business_name,
            "website_url": user.website_url,
            "profile_image": f"https://i.pinimg.com/sandbox/{user.username}.jpg",
            "about": "Specialty coffee, roasted in São Paulo.",
            "board_count": sum(1 for b in data.BOARDS if b.created <= now.date()),
            "pin_count": len(data.pins_until(now)),
            "follower_count": data.followers(now),
            "following_count": user.following_count,
            "monthly_views": sum(
                data.account_day(now.date() - timedelta(days=i), "NO_SPLIT")
                .get("all", {})
                .get("IMPRESSION", 0)
                for i in range(1, 31)
            ),
        }

    @app.get("/v5/user_account/analytics")
    async def user_analytics(request: Request) -> dict[str, Any]:
        await gate(request, "user_account.analytics")
        query, today = dict(request.query_params), emulator.today()
        days, asked = span(query, today), metric_types(query)
        split = query.get("split_field") or "NO_SPLIT"
        if split not in SPLITS:
            raise bad(f"split_field {split!r} is not served by the sandbox.")
        by_key: dict[str, dict[date, dict[str, int]]] = {}
        for day in days:
            for key, values in data.account_day(day, split).items():
                by_key.setdefault(key, {})[day] = values
        if not by_key:
            by_key["all"] = {}
        return {key: series(days, today, by_day, asked) for key, by_day in sorted(by_key.items())}

    @app.get("/v5/pins")
    async def list_pins(request: Request) -> dict[str, Any]:
        await gate(request, "pins.list")
        return page(request, [pin_json(p) for p in data.pins_until(controls.clock.now())])

    @app.get("/v5/pins/{pin_id}/analytics")
    async def pin_analytics(pin_id: str, request: Request) -> dict[str, Any]:
        await gate(request, "pins.analytics")
        found = data.pin_by_id(pin_id)
        if found is None or found.created_at > controls.clock.now():
            raise PinterestError(404, 3, "Pin not found.")
        query, today = dict(request.query_params), emulator.today()
        days, asked = span(query, today), metric_types(query)
        by_day = {d: data.pin_totals(found.number, d) for d in days}
        return {"all": series(days, today, by_day, asked)}

    @app.get("/v5/boards")
    async def list_boards(request: Request) -> dict[str, Any]:
        await gate(request, "boards.list")
        now = controls.clock.now()
        pins = data.pins_until(now)
        items = [
            {
                "id": b.id,
                "name": b.name,
                "privacy": "PUBLIC",
                "created_at": f"{b.created.isoformat()}T12:00:00",
                "pin_count": sum(1 for p in pins if p.board.id == b.id),
                "follower_count": data.followers(now) // (3 + i),
                "owner": {"username": data.USER.username},
            }
            for i, b in enumerate(data.BOARDS)
            if b.created <= now.date()
        ]
        return page(request, items)

    return app


def pin_json(p: data.Pin) -> dict[str, Any]:
    media = "video" if p.pin_format == "ORGANIC_VIDEO" else "image"
    return {
        "id": p.id,
        "created_at": p.created_at.strftime("%Y-%m-%dT%H:%M:%S"),
        "title": p.title,
        "description": f"{p.title} — from the Acme Coffee Roasters kitchen.",
        "link": f"{data.USER.website_url}/pins/{p.number}",
        "board_id": p.board.id,
        "board_owner": {"username": data.USER.username},
        "creative_type": "VIDEO" if media == "video" else "REGULAR",
        "is_owner": True,
        "media": {"media_type": media},
        "pin_format": p.pin_format,
    }
