"""Media, stories and their insights over HTTP: paging, the 24-hour story window,
metrics by media product type, batches and multi-id lookups."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from metrics_connect.networks.instagram_business.emulator.model import InstagramSandbox
from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork
from tests.sandbox.instagram.conftest import IG, TOKEN, get


async def test_media_paging_walks_every_post_newest_first(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    r = await get(graph, f"/v21.0/{IG}/media", fields="id,timestamp,media_type", limit=50)
    seen: list[str] = []
    pages = 0
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        seen.extend(m["id"] for m in body["data"])
        pages += 1
        assert len(body["data"]) <= 50
        nxt = body.get("paging", {}).get("next")
        if not nxt:
            break
        r = await graph.get(nxt)
    expected = [m.id for m in sandbox.media()]
    assert seen == expected
    assert pages == -(-len(expected) // 50)
    count = await get(graph, f"/v21.0/{IG}", fields="media_count")
    assert count.json()["media_count"] == len(expected)


async def test_media_cursors_go_back_and_default_fields(graph: httpx.AsyncClient) -> None:
    first = (await get(graph, f"/v21.0/{IG}/media", limit=5)).json()
    assert all(set(m) == {"id"} for m in first["data"])
    assert "previous" not in first["paging"]
    second = (await graph.get(first["paging"]["next"])).json()
    back = (await graph.get(second["paging"]["previous"])).json()
    assert [m["id"] for m in back["data"]] == [m["id"] for m in first["data"]]


async def test_media_list_stops_at_the_sandbox_now(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    before = (await get(graph, f"/v21.0/{IG}/media", fields="timestamp", limit=100)).json()
    latest = before["data"][0]["timestamp"]
    assert latest <= "2024-09-02T15:00:00+0000"
    network.controls.clock.advance(timedelta(days=7))
    after = (await get(graph, f"/v21.0/{IG}/media", fields="timestamp", limit=100)).json()
    assert after["data"][0]["timestamp"] > latest


async def test_stories_visible_for_24_hours_only(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    now = sandbox.now()
    r = await get(graph, f"/v21.0/{IG}/stories", fields="id,timestamp,media_type,permalink")
    listed = [s["id"] for s in r.json()["data"]]
    expected = [s.id for s in sandbox.stories_posted(now - timedelta(hours=24), now)]
    assert sorted(listed) == sorted(expected)
    assert listed
    story = sandbox.find_media(listed[-1])  # the oldest live story
    assert story is not None
    insights = await get(graph, f"/v21.0/{story.id}/insights", metric="reach,replies")
    assert insights.status_code == 200
    # One second before its 24 hours end it is still there, with its final figures.
    network.controls.clock.set(story.timestamp + timedelta(hours=24) - timedelta(seconds=1))
    r = await get(graph, f"/v21.0/{story.id}/insights", metric="replies")
    assert r.json()["data"][0]["values"][0]["value"] == story.final["replies"]
    network.controls.clock.set(story.timestamp + timedelta(hours=24))
    r = await get(graph, f"/v21.0/{IG}/stories")
    assert story.id not in [s["id"] for s in r.json()["data"]]
    gone = await get(graph, f"/v21.0/{story.id}/insights", metric="reach")
    assert gone.status_code == 400
    assert gone.json()["error"]["code"] == 100
    assert gone.json()["error"]["error_subcode"] == 33


async def test_story_navigation_breakdown(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    story = sandbox.live_stories()[0]
    r = await get(
        graph,
        f"/v21.0/{story.id}/insights",
        metric="navigation",
        breakdown="story_navigation_action_type",
    )
    total = r.json()["data"][0]["total_value"]
    results = {x["dimension_values"][0]: x["value"] for x in total["breakdowns"][0]["results"]}
    assert set(results) <= {"tap_forward", "tap_back", "tap_exit", "swipe_forward"}
    assert sum(results.values()) == total["value"]
    old = await get(graph, f"/v21.0/{story.id}/insights", metric="taps_forward")
    assert old.status_code == 400


async def test_metrics_by_media_product_type(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    reel = sandbox.media(product_type="REELS")[5]
    post = sandbox.media(product_type="FEED")[5]
    story = sandbox.live_stories()[0]
    r = await get(graph, f"/v21.0/{reel.id}/insights", metric="reach,plays,views,saved")
    assert r.status_code == 200, r.text
    got = {d["name"]: d["values"][0]["value"] for d in r.json()["data"]}
    assert got["views"] >= got["plays"] >= got["reach"] * 0 and got == {
        k: reel.final[k] for k in got
    }
    assert (await get(graph, f"/v22.0/{reel.id}/insights", metric="plays")).status_code == 400
    assert (await get(graph, f"/v21.0/{story.id}/insights", metric="plays")).status_code == 400
    assert (await get(graph, f"/v21.0/{post.id}/insights", metric="video_views")).status_code == 400
    r = await get(
        graph, f"/v21.0/{post.id}/insights", metric="reach,impressions,total_interactions"
    )
    values = {d["name"]: d["values"][0]["value"] for d in r.json()["data"]}
    assert values["reach"] <= values["impressions"]
    assert values["total_interactions"] == sum(
        post.final[m] for m in ("likes", "comments", "saved", "shares")
    )


async def test_media_insights_older_than_two_years_are_empty(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    first = sandbox.media(until=datetime(2023, 6, 10, tzinfo=UTC))[-1]
    network.controls.clock.set(first.timestamp + timedelta(days=731))
    r = await get(graph, f"/v21.0/{first.id}/insights", metric="reach")
    assert r.status_code == 200
    assert r.json() == {"data": []}


async def test_batch_of_media_insights(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    posts = sandbox.media()[:50]
    batch = [
        {"method": "GET", "relative_url": f"v21.0/{m.id}/insights?metric=reach,likes"}
        for m in posts
    ]
    network.controls.calls.reset()
    r = await graph.post("/v21.0/", data={"access_token": TOKEN, "batch": json.dumps(batch)})
    assert r.status_code == 200, r.text
    answers = r.json()
    assert len(answers) == 50
    for post, answer in zip(posts, answers, strict=True):
        assert answer["code"] == 200
        assert any(h["name"] == "Content-Type" for h in answer["headers"])
        body = json.loads(answer["body"])
        assert body["data"][0]["values"][0]["value"] == post.insights_at(sandbox.now())["reach"]
    assert network.controls.calls.by_endpoint["batch"] == 1
    assert network.controls.calls.by_endpoint["media_insights"] == 50
    too_many = await graph.post(
        "/v21.0/", data={"access_token": TOKEN, "batch": json.dumps(batch + batch[:1])}
    )
    assert too_many.status_code == 400
    assert "Maximum batch size is 50" in too_many.json()["error"]["message"]
    mixed = await graph.post(
        "/",
        data={
            "access_token": TOKEN,
            "include_headers": "false",
            "batch": json.dumps(
                [
                    {"method": "GET", "relative_url": f"{IG}?fields=username"},
                    {"method": "GET", "relative_url": "999?fields=id"},
                ]
            ),
        },
    )
    first, second = mixed.json()
    assert "headers" not in first
    assert json.loads(first["body"]) == {"username": "acmecoffee"}
    assert second["code"] == 400
    assert json.loads(second["body"])["error"]["error_subcode"] == 33


async def test_multi_id_lookups(graph: httpx.AsyncClient, sandbox: InstagramSandbox) -> None:
    posts = sandbox.media()[:3]
    ids = ",".join(m.id for m in posts)
    r = await get(graph, "/v21.0/", ids=ids, fields="id,like_count,media_product_type")
    body = r.json()
    assert list(body) == [m.id for m in posts]
    r = await get(graph, "/v21.0/insights", ids=ids, metric="reach")
    assert {k: v["data"][0]["values"][0]["value"] for k, v in r.json().items()} == {
        m.id: m.insights_at(sandbox.now())["reach"] for m in posts
    }
    missing = await get(graph, "/v21.0/", ids=f"{posts[0].id},123", fields="id")
    assert missing.json()["error"]["code"] == 803


async def test_pages_lead_to_the_instagram_account(graph: httpx.AsyncClient) -> None:
    r = await get(graph, "/v21.0/me/accounts", fields="id,name,instagram_business_account")
    page = r.json()["data"][0]
    assert page["instagram_business_account"] == {"id": IG}
    r = await get(
        graph, f"/v21.0/{page['id']}", fields="instagram_business_account{id,username},name"
    )
    assert r.json()["instagram_business_account"] == {"id": IG, "username": "acmecoffee"}
    r = await get(graph, f"/v21.0/{IG}", fields="id,username,nope")
    assert r.status_code == 400
    assert "nonexisting field (nope)" in r.json()["error"]["message"]


async def test_fields_expansion_of_media_and_children(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    r = await get(
        graph,
        f"/v21.0/{IG}",
        fields="followers_count,media.limit(3){id,media_type,children{id,media_url}}",
    )
    body = r.json()
    assert body["followers_count"] == sandbox.followers_count()
    assert len(body["media"]["data"]) == 3
    album = next(m for m in sandbox.media() if m.media_type == "CAROUSEL_ALBUM")
    r = await get(graph, f"/v21.0/{album.id}", fields="children{id,media_type}")
    assert [c["id"] for c in r.json()["children"]["data"]] == list(album.children)
    # A child read by its own id, alone and among ?ids=, is that child.
    child = album.children[0]
    r = await get(graph, f"/v21.0/{child}", fields="id,media_type")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == child
    r = await get(graph, "/v21.0/", ids=f"{album.id},{child}", fields="id")
    assert r.status_code == 200, r.text
    assert list(r.json()) == [album.id, child]


async def test_malformed_fields_are_a_parameter_error(graph: httpx.AsyncClient) -> None:
    for path in (f"/v21.0/{IG}", "/v21.0/me/accounts", "/v21.0/20000000000000001"):
        r = await get(graph, path, fields="id,media{id")
        assert r.status_code == 400, path
        assert r.json()["error"]["code"] == 100


async def test_cursors_survive_the_expiry_of_their_story(
    network: InstagramSandboxNetwork, graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    live = sandbox.live_stories()
    assert len(live) >= 2
    r = (await get(graph, f"/v21.0/{IG}/stories", limit=len(live) - 1)).json()
    rest = (await graph.get(r["paging"]["next"])).json()
    oldest = rest["data"][-1]["id"]
    assert oldest == live[-1].id
    # The oldest story expires; its cursor still leads back to the newer ones.
    story = sandbox.find_media(oldest)
    assert story is not None and story.expires_at is not None
    network.controls.clock.set(story.expires_at)
    back = (await graph.get(rest["paging"]["previous"])).json()
    still_live = [s.id for s in live[:-1] if s.is_live(story.expires_at)]
    assert still_live
    assert [s["id"] for s in back["data"]] == still_live
