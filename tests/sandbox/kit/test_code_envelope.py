"""The sandbox kit's code-envelope family: HTTP 200 with `code`, refusals in order, a
real 404 for unknown paths, and the token endpoint's refusals."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.code_envelope import (
    INVALID_PARAMETER,
    CodeError,
    admit,
    envelope,
    oauth_error,
    route,
    unknown_route,
)
from metrics_connect.sandbox.kit.controls import SandboxControls


async def test_refusals_and_answers_come_in_the_envelope() -> None:
    controls = SandboxControls()

    async def gate(request: Request, endpoint: str) -> None:
        await admit(controls, request, endpoint, "not yours", "slow down")

    async def thing(request: Request) -> Response:
        if request.query_params.get("n") == "bad":
            raise CodeError(INVALID_PARAMETER, "n: bad")
        return envelope(0, "OK", {"n": int(request.query_params.get("n", "1"))})

    app = Starlette(
        routes=[
            route("/thing/", "thing", thing, gate),
            route("/lenient/", "lenient", thing, gate, invalid_values=True),
            unknown_route(),
        ]
    )
    token = {"Access-Token": DEMO_ACCESS_TOKEN}
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        missing = (await client.get("/thing/")).json()
        foreign = (await client.get("/thing/", headers={"Access-Token": "x"})).json()
        served = await client.get("/thing/", params={"n": "2"}, headers=token)
        refused = (await client.get("/thing/", params={"n": "bad"}, headers=token)).json()
        lenient = (await client.get("/lenient/", params={"n": "two"}, headers=token)).json()
        strict = await client.get("/thing/", params={"n": "two"}, headers=token)
        controls.switches.rate_limit_next = 1
        limited = (await client.get("/thing/", headers=token)).json()
        controls.switches.revoked_tokens.add(DEMO_ACCESS_TOKEN)
        revoked = (await client.get("/thing/", headers=token)).json()
        unknown = await client.post("/nothing/")
    assert (missing["code"], foreign["code"]) == (40104, 40105)
    assert served.status_code == 200 and served.json()["data"] == {"n": 2}
    assert served.json()["code"] == 0 and len(served.json()["request_id"]) == 24
    assert (refused["code"], refused["message"], refused["data"]) == (40002, "n: bad", {})
    assert lenient["code"] == 40002 and lenient["message"].startswith("Invalid parameter: ")
    assert strict.status_code == 500  # without invalid_values, a ValueError is a bug
    assert (limited["code"], limited["message"]) == (40100, "slow down")
    assert (revoked["code"], revoked["message"]) == (40001, "not yours")
    assert unknown.status_code == 404 and unknown.json()["code"] == 40400
    assert controls.calls.by_endpoint["thing"] == 7


def test_the_token_endpoints_refusals() -> None:
    assert oauth_error("invalid_client", "who?", 401).body.startswith(b'{"code":40101')
    assert b'"code":40110' in oauth_error("invalid_grant", "used", 400).body
    assert b'"code":40002' in oauth_error("invalid_request", "what?", 400).body
