"""The kit's token fleet: a token `<prefix><n>` reaches account n's app, built on first
use from n alone and cached; every other token reaches the default app."""

from __future__ import annotations

import json
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.sandbox.kit.fleet import TokenFleet

PREFIX = "sandbox-acct-"


def _app(name: str) -> Any:
    async def answer(request: Request) -> JSONResponse:
        body = (await request.body()).decode()
        return JSONResponse({"app": name, "body": body})

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


def _fleet(cached: int = 2048) -> tuple[TokenFleet[Any], list[int]]:
    built: list[int] = []

    def build(number: int) -> Any:
        built.append(number)
        return _app(f"account-{number}")

    return TokenFleet(_app("default"), PREFIX, build, cached_accounts=cached), built


async def _ask(fleet: TokenFleet[Any], **request: Any) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=fleet)
    async with httpx.AsyncClient(transport=transport, base_url="http://fleet.test") as client:
        method = "POST" if "data" in request or "json" in request else "GET"
        response = await client.request(method, "/x", **request)
    return dict(response.json())


def test_account_numbers() -> None:
    fleet, _ = _fleet()
    assert fleet.account_number(f"{PREFIX}12") == 12
    for token in (None, "", f"{PREFIX}0", f"{PREFIX}x", PREFIX, "sandbox-other-3"):
        assert fleet.account_number(token) is None


async def test_the_token_is_read_from_query_header_or_body() -> None:
    fleet, built = _fleet()
    assert (await _ask(fleet, params={"access_token": f"{PREFIX}1"}))["app"] == "account-1"
    header = {"authorization": f"Bearer {PREFIX}2"}
    assert (await _ask(fleet, headers=header))["app"] == "account-2"
    form = await _ask(fleet, data={"access_token": f"{PREFIX}3", "batch": "[]"})
    assert form["app"] == "account-3" and "batch=%5B%5D" in form["body"]  # body replayed
    payload = {"access_token": f"{PREFIX}4", "batch": []}
    answer = await _ask(fleet, json=payload)
    assert answer["app"] == "account-4" and json.loads(answer["body"]) == payload
    assert (await _ask(fleet, params={"access_token": "sandbox-demo"}))["app"] == "default"
    assert (await _ask(fleet, json=["not", "an", "object"]))["app"] == "default"
    assert built == [1, 2, 3, 4]


async def test_apps_are_cached_and_the_least_recently_used_rebuilt() -> None:
    fleet, built = _fleet(cached=2)
    for number in (1, 2, 1, 3, 1, 2):
        await _ask(fleet, params={"access_token": f"{PREFIX}{number}"})
    # 1 and 2 built; 1 reused; 3 evicts 2 (1 was used more recently); 1 reused; 2 rebuilt.
    assert built == [1, 2, 3, 2]
