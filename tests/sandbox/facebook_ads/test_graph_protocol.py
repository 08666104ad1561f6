"""Issue 13: the Marketing API emulator refuses expired versions as Meta does (#2635, its
own schedule), answers unknown paths and methods in Graph's error envelope, serves
`POST /` batches and reads list parameters as JSON arrays."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from metrics_connect.networks.facebook_ads.emulator.app import VERSIONS
from metrics_connect.sandbox.accounts import AD_ACCOUNT_ID
from metrics_connect.sandbox.registry import SandboxNetwork


async def test_versions_past_the_marketing_api_expiration_are_refused(
    network: SandboxNetwork, graph: httpx.AsyncClient
) -> None:
    # 2026-01-15: v21.0 expired for the Marketing API on 2025-09-09 (the Graph API keeps
    # it until 2027-01-21); the latest version released then is v24.0.
    expired = await graph.get(f"http://graph.test/v21.0/{AD_ACCOUNT_ID}")
    assert expired.status_code == 400
    assert expired.json()["error"] == {
        "message": "(#2635) You are calling a deprecated version of the Ads API. Please "
        "update to the latest version: v24.0.",
        "type": "OAuthException",
        "is_transient": False,
        "code": 2635,
        "fbtrace_id": expired.json()["error"]["fbtrace_id"],
    }
    assert (await graph.get(f"http://graph.test/v22.0/{AD_ACCOUNT_ID}")).status_code == 200
    network.controls.clock.set(datetime(2026, 12, 2, 15, tzinfo=UTC))
    refused = await graph.get(f"http://graph.test/v24.0/{AD_ACCOUNT_ID}")  # gone 2026-11-10
    assert refused.json()["error"]["message"].endswith("latest version: v27.0.")
    assert (await graph.get(f"http://graph.test/v25.0/{AD_ACCOUNT_ID}")).status_code == 200
    assert VERSIONS.default == "v27.0"


async def test_unknown_paths_and_methods_answer_graph_errors(graph: httpx.AsyncClient) -> None:
    deep = await graph.get(f"{AD_ACCOUNT_ID}/insights/extra/more")
    assert deep.status_code == 400
    assert deep.json()["error"]["code"] == 2500 and "detail" not in deep.json()
    deleted = await graph.delete(AD_ACCOUNT_ID)
    assert deleted.status_code == 400
    error = deleted.json()["error"]
    assert error["type"] == "GraphMethodException" and error["error_subcode"] == 33
    assert error["message"].startswith(
        f"Unsupported delete request. Object with ID '{AD_ACCOUNT_ID}'"
    )


async def test_batches_on_post_root(graph: httpx.AsyncClient) -> None:
    batch = [
        {"method": "GET", "relative_url": f"{AD_ACCOUNT_ID}?fields=name"},
        {"method": "GET", "relative_url": f"v24.0/{AD_ACCOUNT_ID}/campaigns?fields=name&limit=2"},
        {"method": "GET", "relative_url": f"{AD_ACCOUNT_ID}/nothing/here"},
    ]
    r = await graph.post("http://graph.test/", data={"batch": json.dumps(batch)})
    assert r.status_code == 200, r.text
    answers = r.json()
    assert [a["code"] for a in answers] == [200, 200, 400]
    assert json.loads(answers[0]["body"])["name"]
    assert len(json.loads(answers[1]["body"])["data"]) == 2
    assert json.loads(answers[2]["body"])["error"]["code"] == 2500


async def test_effective_status_as_json_array_or_comma_list(graph: httpx.AsyncClient) -> None:
    as_json = await graph.get(
        f"{AD_ACCOUNT_ID}/campaigns", params={"effective_status": '["ACTIVE","PAUSED"]'}
    )
    as_csv = await graph.get(
        f"{AD_ACCOUNT_ID}/campaigns", params={"effective_status": "ACTIVE,PAUSED"}
    )
    assert as_json.status_code == 200, as_json.text
    assert as_json.json()["data"] == as_csv.json()["data"]


async def test_fields_in_graph_syntax_and_malformed_fields_refused(
    graph: httpx.AsyncClient,
) -> None:
    # The kit's Graph `fields` parser: nested fields of the creative, and a malformed
    # list refused as the Graph API refuses it (it used to be silently ignored here).
    ads = await graph.get(
        f"/{AD_ACCOUNT_ID}/ads", params={"fields": "name,creative{object_type,url_tags}"}
    )
    creative = ads.json()["data"][0]["creative"]
    assert set(creative) == {"id", "object_type", "url_tags"}
    malformed = await graph.get(f"/{AD_ACCOUNT_ID}/ads", params={"fields": "name,creative{id"})
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == 100
    assert "Syntax error" in malformed.json()["error"]["message"]
