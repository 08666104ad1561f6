"""Numbers end to end on the Instagram emulator, each checked against a reference
computation written here from the emulator's raw data (not a call into the engine)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from metrics_connect.networks.instagram_business.emulator.model import InstagramSandbox

from .conftest import NOW, Connected

TZ = ZoneInfo("America/Sao_Paulo")
TODAY = NOW.astimezone(TZ).date()  # 2026-11-20
OCT_1, OCT_20 = date(2026, 10, 1), date(2026, 10, 20)


def raw(connected: Connected) -> InstagramSandbox:
    return connected.network.sandbox


def local_day(sandbox: InstagramSandbox, item: object) -> date:
    return sandbox.local_day(item.timestamp)  # type: ignore[attr-defined]


def media_between(
    sandbox: InstagramSandbox, start: date, end: date, product: str | None = None
) -> list:
    return [
        m
        for m in sandbox.media()
        if start <= local_day(sandbox, m) <= end
        and (product is None or m.media_product_type == product)
    ]


def number(
    wid: str, metrics: list[str], dimensions: list[str] | None = None, **extra: object
) -> dict:
    return {
        "id": wid,
        "reference_key": f"ig:test_{wid}",
        "component": "number_v1",
        "metrics": metrics,
        "dimensions": dimensions or [],
        **extra,
    }


async def test_seed_request_shape(connected: Connected) -> None:
    body = connected.body(
        TODAY.isoformat(),
        TODAY.isoformat(),
        [number("w1", ["replies"], ["stories"], reference_key="ig:story_replies")],
    )
    data = await connected.get_data(body)
    assert set(data) == {"w1"}
    assert isinstance(data["w1"]["values"], int)
    assert data["w1"]["comparison"] == {
        "values": None,
        "difference": None,
        "absoluteDifference": None,
    }
    sandbox = raw(connected)
    stories = [s for s in sandbox.live_stories(NOW) if local_day(sandbox, s) == TODAY]
    assert data["w1"]["values"] == sum(s.insights_at(NOW)["replies"] for s in stories)


async def test_sum_of_post_likes(connected: Connected) -> None:
    data = await connected.get_data(
        connected.body(
            OCT_1.isoformat(), OCT_20.isoformat(), [number("likes", ["likes"], ["media"])]
        )
    )
    sandbox = raw(connected)
    expected = sum(m.insights_at(NOW)["likes"] for m in media_between(sandbox, OCT_1, OCT_20))
    assert expected > 0
    assert data["likes"]["values"] == expected


async def test_stock_followers_is_the_current_count(connected: Connected) -> None:
    data = await connected.get_data(
        connected.body(
            (TODAY - timedelta(days=6)).isoformat(),
            TODAY.isoformat(),
            [number("f", ["followers"], reference_key="ig:followers_count")],
        )
    )
    assert data["f"]["values"] == raw(connected).followers_count(NOW)


async def test_period_reach_is_the_networks_unique_count(connected: Connected) -> None:
    data = await connected.get_data(
        connected.body(
            OCT_1.isoformat(),
            OCT_20.isoformat(),
            [
                number("reach", ["reach"], reference_key="ig:reach"),
                {
                    "id": "daily",
                    "reference_key": "ig:reach_over_time",
                    "component": "chart_v1",
                    "metrics": ["reach"],
                    "dimensions": ["date"],
                },
            ],
        )
    )
    sandbox = raw(connected)
    period = sandbox.period_total("reach", OCT_1, OCT_20)
    daily = [sandbox.daily_value("reach", OCT_1 + timedelta(days=n)) for n in range(20)]
    assert data["reach"]["values"] == period
    assert data["daily"]["values"][0]["data"] == daily
    assert period != sum(daily)


async def test_ratio_from_summed_parts(connected: Connected) -> None:
    data = await connected.get_data(
        connected.body(
            OCT_1.isoformat(),
            OCT_20.isoformat(),
            [number("rate", ["engagement_rate"], ["media"])],
        )
    )
    items = [m.insights_at(NOW) for m in media_between(raw(connected), OCT_1, OCT_20)]
    engagement = sum(i["likes"] + i["comments"] + i["saved"] + i["shares"] for i in items)
    reach = sum(i["reach"] for i in items)
    assert data["rate"]["values"] == round(engagement / reach * 100, 4)


async def test_average_per_item(connected: Connected) -> None:
    data = await connected.get_data(
        connected.body(
            OCT_1.isoformat(),
            OCT_20.isoformat(),
            [number("avg", ["reach:average"], ["media", "reels"])],
        )
    )
    reels = [
        m.insights_at(NOW)["reach"] for m in media_between(raw(connected), OCT_1, OCT_20, "REELS")
    ]
    assert reels
    assert data["avg"]["values"] == round(sum(reels) / len(reels), 4)


async def test_breakdown_followers_by_gender(connected: Connected) -> None:
    data = await connected.get_data(
        connected.body(
            TODAY.isoformat(),
            TODAY.isoformat(),
            [
                {
                    "id": "g",
                    "reference_key": "ig:followers_gender",
                    "component": "chart_v1",
                    "chart_type": "pie",
                    "metrics": ["followers"],
                    "dimensions": ["gender"],
                }
            ],
        )
    )
    truth = raw(connected).demographics("gender", NOW)
    labels = {"F": "Female", "M": "Male", "U": "Unknown"}
    ordered = sorted(truth.items(), key=lambda kv: -kv[1])
    assert data["g"]["labels"] == [labels[k] for k, _ in ordered]
    assert data["g"]["values"] == [{"label": "Followers", "data": [v for _, v in ordered]}]


async def test_clicks_breakdown_table_with_ctr_from_totals(connected: Connected) -> None:
    widget = {
        "id": "t",
        "reference_key": "ig:clicks_breakdown",
        "component": "datatable_v1",
        "metrics": ["count", "ctr"],
        "dimensions": ["clicks_breakdown"],
        "sort": ["-count"],
    }
    data = await connected.get_data(connected.body(OCT_1.isoformat(), OCT_20.isoformat(), [widget]))
    sandbox = raw(connected)
    taps = sandbox.period_total(
        "profile_links_taps", OCT_1, OCT_20, breakdown="contact_button_type"
    )
    reach = sandbox.period_total("reach", OCT_1, OCT_20)
    assert isinstance(taps, dict) and isinstance(reach, int)
    rows = data["t"]["values"]
    assert data["t"]["headers"] == ["Click Type", "Count", "CTR"]
    assert [r[1] for r in rows[:-1]] == sorted((v for v in taps.values() if v), reverse=True)
    total = sum(taps.values())
    assert rows[-1] == ["Total", total, round(total / reach, 4)]


async def test_comparison_including_zero(connected: Connected) -> None:
    sandbox = raw(connected)
    quiet = next(
        OCT_1 + timedelta(days=n)
        for n in range(30)
        if not media_between(sandbox, OCT_1 + timedelta(days=n), OCT_1 + timedelta(days=n), "REELS")
    )
    busy = next(
        OCT_1 + timedelta(days=n)
        for n in range(30)
        if media_between(sandbox, OCT_1 + timedelta(days=n), OCT_1 + timedelta(days=n), "REELS")
    )
    reels = len(media_between(sandbox, busy, busy, "REELS"))
    data = await connected.get_data(
        connected.body(
            busy.isoformat(),
            busy.isoformat(),
            [number("n", ["count"], ["media", "reels"], reference_key="ig:reels_count")],
            comparison_start=quiet.isoformat(),
            comparison_end=quiet.isoformat(),
        )
    )
    assert data["n"] == {
        "values": reels,
        "comparison": {"values": 0, "difference": None, "absoluteDifference": reels},
    }
    # And a plain comparison: followers-side likes, this period against the previous one.
    prev_start, prev_end = OCT_1 - timedelta(days=20), OCT_1 - timedelta(days=1)
    data = await connected.get_data(
        connected.body(
            OCT_1.isoformat(),
            OCT_20.isoformat(),
            [number("likes", ["likes"], ["media"])],
            comparison_start=prev_start.isoformat(),
            comparison_end=prev_end.isoformat(),
        )
    )
    now = sum(m.insights_at(NOW)["likes"] for m in media_between(sandbox, OCT_1, OCT_20))
    before = sum(m.insights_at(NOW)["likes"] for m in media_between(sandbox, prev_start, prev_end))
    assert data["likes"]["comparison"] == {
        "values": before,
        "difference": round((now - before) / before * 100, 2),
        "absoluteDifference": now - before,
    }


async def test_online_followers_mean_per_hour_by_day_and_by_hour(connected: Connected) -> None:
    days = [TODAY - timedelta(days=n) for n in (3, 2, 1)]
    widgets = [
        {
            "id": "per_day",
            "reference_key": "ig:online_followers_per_day",
            "component": "chart_v1",
            "metrics": ["online_followers"],
            "dimensions": ["date"],
        },
        {
            "id": "per_hour",
            "reference_key": "ig:online_followers_per_hour",
            "component": "chart_v1",
            "metrics": ["online_followers"],
            "dimensions": ["hour"],
        },
    ]
    data = await connected.get_data(
        connected.body(days[0].isoformat(), days[-1].isoformat(), widgets)
    )
    sandbox = raw(connected)
    truth = [sandbox.online_followers(d) for d in days]
    assert data["per_day"]["values"][0]["data"] == [
        round(sum(t.values()) / len(t), 4) for t in truth
    ]
    assert data["per_hour"]["labels"] == [str(h) for h in range(24)]
    assert data["per_hour"]["values"][0]["data"] == [
        round(sum(t[h] for t in truth) / len(truth), 4) for h in range(24)
    ]
