"""One emulator serves many accounts: the token names the account, each generated from
its number alone (the same in every emulator), each with its own usage meter."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from metrics_connect.networks.instagram_business.emulator.fleet import (
    fleet_token,
    fleet_user_id,
)
from metrics_connect.networks.instagram_business.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, INSTAGRAM_USER_ID

FLEET_NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def _profile(app: object, number: int) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://graph.test") as graph:
        return await graph.get(
            f"/v21.0/{fleet_user_id(number)}",
            params={"fields": "id,username,followers_count", "access_token": fleet_token(number)},
        )


async def test_each_token_reads_its_own_generated_account() -> None:
    network = build_sandbox()
    network.controls.clock.set(FLEET_NOW)
    first, second = await _profile(network.app, 1), await _profile(network.app, 2)
    assert first.status_code == second.status_code == 200, first.text
    assert first.json()["id"] == fleet_user_id(1) and second.json()["id"] == fleet_user_id(2)
    assert first.json()["followers_count"] != second.json()["followers_count"]
    # Another emulator (another process) serves the same account 1.
    other = build_sandbox()
    other.controls.clock.set(FLEET_NOW)
    assert (await _profile(other.app, 1)).json() == first.json()
    # The account answers only through its own id: the demo account's is unknown to it.
    transport = httpx.ASGITransport(app=network.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://graph.test") as graph:
        wrong = await graph.get(
            f"/v21.0/{INSTAGRAM_USER_ID}", params={"access_token": fleet_token(1)}
        )
        assert wrong.status_code >= 400
        demo = await graph.get(
            f"/v21.0/{INSTAGRAM_USER_ID}",
            params={"fields": "username", "access_token": DEMO_ACCESS_TOKEN},
        )
        assert demo.json() == {"username": "acmecoffee"}


async def test_a_batch_posts_its_token_in_the_body_and_reaches_its_account() -> None:
    network = build_sandbox()
    network.controls.clock.set(FLEET_NOW)
    transport = httpx.ASGITransport(app=network.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://graph.test") as graph:
        response = await graph.post(
            "/v21.0/",
            data={
                "access_token": fleet_token(7),
                "batch": json.dumps(
                    [{"method": "GET", "relative_url": f"v21.0/{fleet_user_id(7)}?fields=id"}]
                ),
            },
        )
    assert response.status_code == 200, response.text
    assert json.loads(response.json()[0]["body"]) == {"id": fleet_user_id(7)}


async def test_usage_is_metered_per_account() -> None:
    network = build_sandbox()
    network.controls.clock.set(FLEET_NOW)
    network.fleet.hourly_calls = 4
    for _ in range(5):
        busy = await _profile(network.app, 1)
    assert busy.status_code == 403 and busy.json()["error"]["code"] == 4
    assert (await _profile(network.app, 2)).status_code == 200
    usage = json.loads(busy.headers["x-business-use-case-usage"])
    assert list(usage) == [fleet_user_id(1)]
