"""Tokens, permission loss, rate limits, server errors, usage headers and the call counter."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from metrics_connect.networks.instagram_business.emulator.network import (
    InstagramSandboxNetwork,
    build_sandbox,
)
from metrics_connect.sandbox.registry import build_sandbox as build_registered
from tests.sandbox.instagram.conftest import IG, TOKEN, get


async def test_token_in_query_or_bearer_header(graph: httpx.AsyncClient) -> None:
    r = await graph.get(
        f"/v21.0/{IG}", params={"fields": "username"}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert r.json() == {"username": "acmecoffee"}
    missing = await graph.get(f"/v21.0/{IG}")
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == 104
    invalid = await graph.get(f"/v21.0/{IG}", params={"access_token": "EAAB-not-ours"})
    assert invalid.status_code == 400
    assert invalid.json()["error"]["code"] == 190


async def test_expired_token(network: InstagramSandboxNetwork, graph: httpx.AsyncClient) -> None:
    network.controls.switches.expired_tokens.add(TOKEN)
    r = await get(graph, f"/v21.0/{IG}/insights", metric="reach", period="day")
    assert r.status_code == 400
    error = r.json()["error"]
    assert (error["code"], error["error_subcode"], error["type"]) == (190, 463, "OAuthException")
    assert set(error) == {"message", "type", "code", "error_subcode", "fbtrace_id"}
    assert "Session has expired" in error["message"]
    assert "x-app-usage" in r.headers


async def test_revoked_permissions(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient
) -> None:
    network.controls.switches.revoked_tokens.add(TOKEN)
    insights = await get(graph, f"/v21.0/{IG}/insights", metric="reach", period="day")
    assert insights.status_code == 403
    assert insights.json()["error"]["code"] == 10
    pages = await get(graph, "/v21.0/me/accounts")
    assert pages.status_code == 403
    assert pages.json()["error"]["code"] == 200


async def test_rate_limit_burst_then_recovery(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient
) -> None:
    network.controls.switches.rate_limit_next = 4
    seen = []
    for _ in range(4):
        r = await get(graph, f"/v21.0/{IG}", fields="id")
        error = r.json()["error"]
        assert error["is_transient"] is True
        seen.append((error["code"], r.status_code))
        usage = json.loads(r.headers["x-business-use-case-usage"])[IG][0]
        assert usage["call_count"] == 100
    assert seen == [(4, 403), (17, 403), (32, 403), (613, 400)]
    ok = await get(graph, f"/v21.0/{IG}", fields="id")
    assert ok.status_code == 200
    assert json.loads(ok.headers["x-app-usage"])["call_count"] < 100
    assert network.controls.calls.by_endpoint["user"] == 5


async def test_hourly_budget_is_enforced() -> None:
    network = build_sandbox()
    network.graph_app.usage.hourly_budget = 3
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=network.app), base_url="http://graph.test"
    ) as client:
        answers = [await get(client, f"/v21.0/{IG}") for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 403, 403]
    assert answers[3].json()["error"]["code"] == 4
    usage = json.loads(answers[3].headers["x-business-use-case-usage"])[IG][0]
    assert usage["call_count"] == 100
    assert usage["estimated_time_to_regain_access"] >= 1


async def test_server_errors(network: InstagramSandboxNetwork, graph: httpx.AsyncClient) -> None:
    network.controls.switches.server_error_ratio = 1.0
    statuses = set()
    for _ in range(4):
        r = await get(graph, f"/v21.0/{IG}/media")
        statuses.add(r.status_code)
        assert r.json()["error"]["code"] in (1, 2)
    assert statuses == {500, 503}
    network.controls.switches.server_error_ratio = 0.0
    assert (await get(graph, f"/v21.0/{IG}/media")).status_code == 200


async def test_latency_switch(network: InstagramSandboxNetwork, graph: httpx.AsyncClient) -> None:
    network.controls.switches.latency_seconds = 0.2
    started = time.perf_counter()
    await get(graph, f"/v21.0/{IG}")
    assert time.perf_counter() - started >= 0.2


async def test_usage_headers_on_every_answer(graph: httpx.AsyncClient) -> None:
    for r in (
        await get(graph, f"/v21.0/{IG}"),
        await get(graph, f"/v21.0/{IG}/insights", metric="nope", period="day"),
        await get(graph, "/v21.0/1234"),
    ):
        app_usage = json.loads(r.headers["x-app-usage"])
        assert set(app_usage) == {"call_count", "total_cputime", "total_time"}
        buc = json.loads(r.headers["x-business-use-case-usage"])
        assert buc[IG][0]["type"] == "instagram"
        assert "estimated_time_to_regain_access" in buc[IG][0]


async def test_call_counter_names(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient
) -> None:
    story = network.sandbox.live_stories()[0]
    await get(graph, f"/v21.0/{IG}", fields="followers_count")
    await get(graph, f"/v21.0/{IG}/insights", metric="reach", period="day")
    await get(graph, f"/v21.0/{IG}/media")
    await get(graph, f"/v21.0/{IG}/stories")
    await get(graph, f"/v21.0/{story.id}", fields="id")
    await get(graph, f"/v21.0/{story.id}/insights", metric="reach")
    await get(graph, "/v21.0/me/accounts")
    await get(graph, "/v21.0/", ids=story.id)
    assert dict(network.controls.calls.by_endpoint) == {
        "user": 1,
        "user_insights": 1,
        "media_list": 1,
        "stories": 1,
        "media": 1,
        "media_insights": 1,
        "me_accounts": 1,
        "multi_id": 1,
    }


async def test_unknown_version_and_path(graph: httpx.AsyncClient) -> None:
    # Graph defaults a call to an expired version to the oldest one still served.
    old = await get(graph, f"/v12.0/{IG}")
    assert old.status_code == 200
    assert old.headers["facebook-api-version"] == "v17.0"
    unknown = await get(graph, f"/v21.0/{IG}/nothing")
    assert unknown.status_code == 400


def test_each_build_is_independent_and_registered() -> None:
    a, b = build_sandbox(), build_registered("instagram_business")
    assert a.controls is not b.controls
    assert a.app is not b.app
    assert b.settings_field == "instagram_api_base_url"
    assert b.demo_account.external_id == IG
    assert b.demo_account.credentials == {"access_token": TOKEN}
    a.controls.switches.rate_limit_next = 3
    assert b.controls.switches.rate_limit_next == 0


@pytest.mark.parametrize("version", ["v21.0", "v22.0"])
async def test_unversioned_and_versioned_paths(graph: httpx.AsyncClient, version: str) -> None:
    r = await get(graph, f"/{version}/{IG}", fields="username")
    assert r.headers["facebook-api-version"] == version
    plain = await get(graph, f"/{IG}", fields="username")
    assert plain.json() == r.json()


async def test_batch_as_json_body_and_revoked_operations(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient
) -> None:
    ops = [
        {"method": "GET", "relative_url": f"{IG}?fields=username"},
        {"method": "GET", "relative_url": "me?fields=id"},
    ]
    r = await graph.post("/v21.0/", json={"access_token": TOKEN, "batch": ops})
    assert [a["code"] for a in r.json()] == [200, 200]
    network.controls.switches.revoked_tokens.add(TOKEN)
    r = await graph.post("/v21.0/", json={"access_token": TOKEN, "batch": ops})
    assert r.status_code == 200
    codes = [json.loads(a["body"])["error"]["code"] for a in r.json()]
    assert codes == [10, 200]
    network.controls.switches.expired_tokens.add(TOKEN)
    r = await graph.post("/v21.0/", json={"access_token": TOKEN, "batch": ops})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 190


async def test_faults_per_batch_operation(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient
) -> None:
    network.graph_app.faults_per_operation = True
    ops = [{"method": "GET", "relative_url": f"{IG}?fields=id"} for _ in range(4)]
    network.controls.switches.rate_limit_next = 2
    r = await graph.post("/v21.0/", json={"access_token": TOKEN, "batch": ops})
    assert r.status_code == 200
    assert [a["code"] for a in r.json()] == [403, 403, 200, 200]
    assert [json.loads(a["body"]).get("error", {}).get("code") for a in r.json()] == [
        4,
        17,
        None,
        None,
    ]


async def test_rate_limit_status_override(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient
) -> None:
    network.graph_app.rate_limit_status = 429
    network.controls.switches.rate_limit_ratio = 1.0
    r = await get(graph, f"/v21.0/{IG}")
    assert r.status_code == 429
    assert r.json()["error"]["code"] == 4
