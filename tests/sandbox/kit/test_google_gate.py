"""The Google family's gate (`admit`), its error answers (Retry-After on 429, the older
APIs' errors[].reason) and the quota message."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request

from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit import google
from metrics_connect.sandbox.kit.controls import SandboxControls

QUOTA = google.quota_message("example.googleapis.com")


def gated_app(controls: SandboxControls) -> FastAPI:
    app = FastAPI()

    @app.get("/things")
    async def things(request: Request) -> dict[str, list[int]]:
        await google.admit(controls, request, "things.list", "no access", QUOTA)
        return {"things": [1]}

    @app.get("/old")
    async def old(request: Request) -> None:
        raise google.GoogleError("Bad part.", 400, reason="unknownPart")

    google.answer_google_errors(app, controls)
    return app


async def get(app: FastAPI, path: str, token: str | None = DEMO_ACCESS_TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, headers=headers)


async def test_admit_counts_checks_the_token_then_the_switches() -> None:
    controls = SandboxControls()
    app = gated_app(controls)
    assert (await get(app, "/things")).json() == {"things": [1]}
    missing = await get(app, "/things", token=None)
    assert missing.status_code == 401
    assert missing.json()["error"]["status"] == "UNAUTHENTICATED"
    controls.switches.revoked_tokens.add(DEMO_ACCESS_TOKEN)
    revoked = await get(app, "/things")
    assert revoked.json() == {
        "error": {"code": 403, "message": "no access", "status": "PERMISSION_DENIED"}
    }
    controls.switches.revoked_tokens.clear()
    controls.switches.server_error_ratio = 1.0
    assert (await get(app, "/things")).json()["error"]["status"] == "UNAVAILABLE"
    controls.switches.server_error_ratio = 0.0
    controls.switches.rate_limit_next = 1
    controls.switches.retry_after_seconds = 9
    limited = await get(app, "/things")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "9"
    assert limited.json()["error"]["message"] == (
        "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' "
        "of service 'example.googleapis.com'."
    )
    assert controls.calls.by_endpoint["things.list"] == 5


async def test_a_reason_adds_the_older_errors_list() -> None:
    answer = await get(gated_app(SandboxControls()), "/old")
    assert answer.status_code == 400
    assert answer.json()["error"]["errors"] == [
        {"message": "Bad part.", "domain": "global", "reason": "unknownPart"}
    ]
