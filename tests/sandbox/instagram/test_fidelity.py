"""Issue 13: the Instagram emulator answers as Graph does in December 2026 (Pacific insights
days, expired versions upgraded, sunset metrics in Meta's generic wording, JSON-array list
parameters, Graph error envelopes for unknown paths)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx

from metrics_connect.networks.instagram_business.emulator.model import InstagramSandbox
from metrics_connect.sandbox.accounts import INSTAGRAM_TIMEZONE
from tests.sandbox.instagram.conftest import IG, get


async def test_a_utc_minus_3_accounts_days_end_at_pacific_midnight(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    assert INSTAGRAM_TIMEZONE == "America/Sao_Paulo"  # a UTC-3 account
    # 2024-08-11 02:30 in São Paulo is still 2024-08-10 in Pacific time: Meta counts what
    # happens then in the day of the 10th, whose values end at 2024-08-11T07:00+0000.
    instant = datetime(2024, 8, 11, 5, 30, tzinfo=UTC)
    assert sandbox.local_day(instant) == date(2024, 8, 10)
    r = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="reach",
        period="day",
        since="2024-08-09",
        until="2024-08-12",
    )
    assert r.status_code == 200, r.text
    values = r.json()["data"][0]["values"]
    assert [v["end_time"] for v in values] == [
        "2024-08-10T07:00:00+0000",
        "2024-08-11T07:00:00+0000",
        "2024-08-12T07:00:00+0000",
    ]
    assert values[1]["value"] == sandbox.daily_value("reach", date(2024, 8, 10))


async def test_winter_days_end_at_08_00_utc(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    sandbox.controls.clock.set(datetime(2024, 12, 20, 15, tzinfo=UTC))
    r = await get(graph, f"/v21.0/{IG}/insights", metric="reach", period="day", since="2024-12-10")
    assert r.status_code == 200, r.text
    end_times = {v["end_time"][10:] for v in r.json()["data"][0]["values"]}
    assert end_times == {"T08:00:00+0000"}


async def test_expired_versions_are_served_as_the_oldest_usable_one(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    # On 2026-12-02 Graph v20.0 (expired 2026-09-24) is defaulted to v21.0, as Meta does.
    sandbox.controls.clock.set(datetime(2026, 12, 2, 15, tzinfo=UTC))
    r = await get(graph, f"/v20.0/{IG}", fields="id,username")
    assert r.status_code == 200, r.text
    assert r.headers["facebook-api-version"] == "v21.0"
    assert (await get(graph, f"/v27.0/{IG}")).headers["facebook-api-version"] == "v27.0"


async def test_sunset_metrics_answer_metas_generic_list_in_every_version(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    sandbox.controls.clock.set(datetime(2026, 12, 2, 15, tzinfo=UTC))
    for version in ("v21.0", "v27.0"):
        r = await get(graph, f"/{version}/{IG}/insights", metric="reach,impressions", period="day")
        assert r.status_code == 400
        error = r.json()["error"]
        assert error["code"] == 100 and error["type"] == "OAuthException"
        assert error["message"].startswith(
            "(#100) metric[1] must be one of the following values: reach, views, "
        )
    post = sandbox.media(product_type="REELS")[-1]
    r = await get(graph, f"/v27.0/{post.id}/insights", metric="views,plays")
    assert r.status_code == 400
    assert r.json()["error"]["message"].startswith(
        "(#100) metric[1] must be one of the following values: "
    )
    assert "plays" not in r.json()["error"]["message"]


async def test_views_break_down_by_follower_type_not_follow_type(
    graph: httpx.AsyncClient,
) -> None:
    base = {"metric": "views", "period": "day", "metric_type": "total_value"}
    ok = await get(graph, f"/v21.0/{IG}/insights", breakdown="follower_type", **base)
    assert ok.status_code == 200, ok.text
    wrong = await get(graph, f"/v21.0/{IG}/insights", breakdown="follow_type", **base)
    assert wrong.status_code == 400


async def test_list_parameters_as_json_arrays(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    csv = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="reach,views",
        period="day",
        metric_type="total_value",
        breakdown="media_product_type",
    )
    json_array = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric='["reach","views"]',
        period="day",
        metric_type="total_value",
        breakdown='["media_product_type"]',
    )
    assert json_array.status_code == 200, json_array.text
    assert json_array.json() == csv.json()
    ids = [m.id for m in sandbox.media()[-2:]]
    multi = await get(graph, "/v21.0/", ids=f'["{ids[0]}","{ids[1]}"]', fields="id")
    assert multi.status_code == 200, multi.text
    assert sorted(multi.json()) == sorted(ids)
    bad = await get(graph, f"/v21.0/{IG}/insights", metric='["reach"', period="day")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 100


async def test_unknown_paths_and_methods_answer_graph_errors(graph: httpx.AsyncClient) -> None:
    r = await get(graph, f"/v21.0/{IG}/insights/reach/extra")
    assert r.status_code == 400
    assert "detail" not in r.json() and r.json()["error"]["code"] == 2500
    batch = await graph.post(
        "/", data={"access_token": "sandbox-x", "batch": "[]", "include_headers": "false"}
    )
    assert batch.status_code == 200 and batch.json() == []


async def test_account_insights_kept_90_days_media_two_years(
    graph: httpx.AsyncClient, sandbox: InstagramSandbox
) -> None:
    today = sandbox.today()
    inside = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="reach",
        period="day",
        since=str(today - timedelta(days=85)),
        until=str(today - timedelta(days=60)),
    )
    assert inside.status_code == 200, inside.text
    outside = await get(
        graph,
        f"/v21.0/{IG}/insights",
        metric="reach",
        period="day",
        since=str(today - timedelta(days=95)),
        until=str(today - timedelta(days=70)),
    )
    assert outside.status_code == 400
    old_post = sandbox.media(until=sandbox.now() - timedelta(days=400))[-1]
    media = await get(graph, f"/v21.0/{old_post.id}/insights", metric="reach")
    assert media.status_code == 200 and media.json()["data"]
