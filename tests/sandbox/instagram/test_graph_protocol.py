"""Issue 13: the Instagram emulator speaks Graph as the official clients expect: expired
versions defaulted to the oldest one served, list parameters as JSON arrays, Graph error
envelopes for unknown paths."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from metrics_connect.networks.instagram_business.emulator.model import InstagramSandbox
from tests.sandbox.instagram.conftest import IG, get


async def test_expired_versions_are_served_as_the_oldest_usable_one(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    # On 2026-12-02 Graph v20.0 (expired 2026-09-24) is defaulted to v21.0, as Meta does
    # ("any calls made to it will be defaulted to the next oldest, usable version").
    sandbox.controls.clock.set(datetime(2026, 12, 2, 15, tzinfo=UTC))
    r = await get(graph, f"/v20.0/{IG}", fields="id,username")
    assert r.status_code == 200, r.text
    assert r.headers["facebook-api-version"] == "v21.0"
    assert (await get(graph, f"/v27.0/{IG}")).headers["facebook-api-version"] == "v27.0"
    assert (await get(graph, f"/{IG}")).headers["facebook-api-version"] == "v27.0"


async def test_list_parameters_as_json_arrays(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    base = {"period": "day", "metric_type": "total_value"}
    csv = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="reach,likes",
        breakdown="media_product_type",
        **base,
    )
    json_array = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric='["reach","likes"]',
        breakdown='["media_product_type"]',
        **base,
    )
    assert json_array.status_code == 200, json_array.text
    assert json_array.json() == csv.json()
    ids = [m.id for m in sandbox.media()[-2:]]
    multi = await get(graph, "/v21.0/", ids=f'["{ids[0]}","{ids[1]}"]', fields="id")
    assert multi.status_code == 200, multi.text
    assert sorted(multi.json()) == sorted(ids)
    bad = await get(graph, f"/v21.0/{IG}/insights", metric='["reach"', period="day")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 100


async def test_unknown_paths_answer_graph_errors_and_empty_batches_an_empty_list(
    graph: httpx.AsyncClient,
) -> None:
    r = await get(graph, f"/v21.0/{IG}/insights/reach/extra")
    assert r.status_code == 400
    assert "detail" not in r.json() and r.json()["error"]["code"] == 2500
    batch = await graph.post(
        "/", data={"access_token": "sandbox-x", "batch": "[]", "include_headers": "false"}
    )
    assert batch.status_code == 200 and batch.json() == []
