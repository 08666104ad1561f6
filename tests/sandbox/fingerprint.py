"""Fingerprints of what each emulator serves: a fixed set of requests against a fresh
emulator with a frozen clock, each answer (status, JSON body, the headers a client
reads) reduced to a SHA-256 (a post's many insights answers to one). `fingerprints.json`
holds the values taken before the emulators moved onto the sandbox kit; a refactor must
leave every one unchanged.

Regenerate (only for a deliberate change of the served data):
    .venv/bin/python -m tests.sandbox.fingerprint
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from metrics_connect.sandbox.accounts import (
    AD_ACCOUNT_ID,
    DEMO_ACCESS_TOKEN,
    GA4_PROPERTY_ID,
    INSTAGRAM_USER_ID,
)
from metrics_connect.sandbox.registry import build_sandbox

SNAPSHOT = Path(__file__).with_name("fingerprints.json")
# Headers whose values are part of the emulated API (trace ids and dates are not).
KEPT_HEADERS = (
    "x-app-usage",
    "x-business-use-case-usage",
    "x-ad-account-usage",
    "x-fb-ads-insights-throttle",
    "facebook-api-version",
    "www-authenticate",
    "content-type",
)
RANDOM_FIELDS = ("fbtrace_id",)

Probe = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in RANDOM_FIELDS}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str) and value.startswith("{") and '"fbtrace_id"' in value:
        return _scrub(json.loads(value))  # a batch operation's body is a JSON string
    return value


def digest(response: httpx.Response) -> str:
    try:
        body: Any = _scrub(response.json())
    except ValueError:
        body = response.text
    headers = {k: response.headers[k] for k in KEPT_HEADERS if k in response.headers}
    payload = json.dumps(
        {"status": response.status_code, "headers": headers, "body": body}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def group(responses: list[httpx.Response]) -> str:
    """One fingerprint for several answers (in order)."""
    return hashlib.sha256("\n".join(digest(r) for r in responses).encode()).hexdigest()


async def _run(slug: str, now: datetime, base_url: str, probes: Callable[..., Any]) -> dict:
    network = build_sandbox(slug)
    network.controls.clock.set(now)
    transport = httpx.ASGITransport(app=network.app)
    out: dict[str, str] = {}
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        async for name, answer in probes(client, network):
            assert name not in out, name
            out[name] = digest(answer) if isinstance(answer, httpx.Response) else group(answer)
    out["calls"] = hashlib.sha256(
        json.dumps(sorted(network.controls.calls.by_endpoint.items())).encode()
    ).hexdigest()
    return out


# --- Instagram --------------------------------------------------------------------------

IG_NOW = datetime(2024, 9, 2, 15, 0, tzinfo=UTC)
IG_MEDIA_FIELDS = (
    "id,caption,media_type,media_product_type,timestamp,permalink,like_count,"
    "comments_count,shortcode,is_comment_enabled,children{id,media_type}"
)
IG_ACCOUNT_METRICS = (
    "reach",
    "impressions",
    "views",
    "likes",
    "comments",
    "shares",
    "saves",
    "replies",
    "total_interactions",
    "accounts_engaged",
    "profile_views",
    "website_clicks",
    "follower_count",
    "profile_links_taps",
    "email_contacts",
    "online_followers",
    "follower_demographics",
    "engaged_audience_demographics",
    "reached_audience_demographics",
    "bogus",
)
IG_MEDIA_METRICS = (
    "reach,impressions,likes,comments,shares,saved,total_interactions,views,plays,"
    "video_views,ig_reels_avg_watch_time,ig_reels_video_view_total_time,profile_visits,"
    "follows,replies,taps_forward,taps_back,exits,navigation"
)


async def _instagram(client: httpx.AsyncClient, network: Any) -> Any:
    def get(path: str, **params: Any) -> Awaitable[httpx.Response]:
        query = {"access_token": DEMO_ACCESS_TOKEN, **{k: str(v) for k, v in params.items()}}
        return client.get(path, params=query)

    ig = INSTAGRAM_USER_ID
    yield "me", await get("/v21.0/me")
    yield (
        "me/accounts",
        await get("/v21.0/me/accounts", fields="id,name,instagram_business_account"),
    )
    yield (
        "user",
        await get(
            f"/v21.0/{ig}",
            fields="id,username,name,biography,followers_count,follows_count,media_count,website",
        ),
    )
    yield "user/bad-field", await get(f"/v21.0/{ig}", fields="id,username,nope")
    yield "unknown-object", await get("/v21.0/1234")
    yield "unknown-edge", await get(f"/v21.0/{ig}/nothing")
    yield "no-token", await client.get(f"/v21.0/{ig}")
    yield "bad-token", await client.get(f"/v21.0/{ig}", params={"access_token": "x"})
    media_ids: list[str] = []
    params: dict[str, Any] = {"fields": IG_MEDIA_FIELDS, "limit": 37}
    page = 0
    while True:
        response = await get(f"/v21.0/{ig}/media", **params)
        yield f"media/page{page}", response
        body = response.json()
        media_ids += [m["id"] for m in body["data"]]
        after = body.get("paging", {}).get("cursors", {}).get("after")
        if "next" not in body.get("paging", {}) or after is None:
            break
        params["after"] = after
        page += 1
    yield "stories", await get(f"/v21.0/{ig}/stories", fields="id,timestamp,media_type,permalink")
    story_ids = [s["id"] for s in (await get(f"/v21.0/{ig}/stories")).json()["data"]]
    for version in ("v20.0", "v21.0", "v22.0"):
        for metric in IG_ACCOUNT_METRICS:
            for period in ("day", "lifetime", "week", "days_28"):
                yield (
                    f"{version}/insights/{metric}/{period}",
                    await get(f"/{version}/{ig}/insights", metric=metric, period=period),
                )
            yield (
                f"{version}/insights/{metric}/total",
                await get(
                    f"/{version}/{ig}/insights",
                    metric=metric,
                    period="day",
                    metric_type="total_value",
                    since="2024-06-01",
                    until="2024-06-29",
                ),
            )
        for breakdown in ("media_product_type", "follow_type", "follower_type", "city", "age"):
            yield (
                f"{version}/insights/breakdown/{breakdown}",
                await get(
                    f"/{version}/{ig}/insights",
                    metric="reach,views,follower_demographics,total_interactions",
                    period="lifetime" if breakdown in ("city", "age") else "day",
                    metric_type="total_value",
                    breakdown=breakdown,
                    timeframe="this_month",
                ),
            )
    yield (
        "insights/series-window",
        await get(
            f"/v21.0/{ig}/insights",
            metric="reach,follower_count,likes",
            period="day",
            since="2024-05-01",
            until="2024-07-29",
        ),
    )
    for media_id in media_ids + story_ids:
        # One entry per post: its insights in two versions, then metric by metric.
        answers = [
            await get(f"/{version}/{media_id}/insights", metric=IG_MEDIA_METRICS)
            for version in ("v21.0", "v22.0")
        ]
        for metric in IG_MEDIA_METRICS.split(","):
            answers.append(await get(f"/v21.0/{media_id}/insights", metric=metric))
        yield f"media/{media_id}/insights", answers
    ids = ",".join(media_ids[:20])
    yield "multi-ids", await get("/v21.0/", ids=ids, fields="id,like_count,media_product_type")
    yield "multi-ids/insights", await get("/v21.0/insights", ids=ids, metric="reach")
    batch = [
        {"method": "GET", "relative_url": f"v21.0/{m}/insights?metric=reach,likes"}
        for m in media_ids[:10]
    ] + [{"method": "GET", "relative_url": f"v21.0/{ig}?fields=followers_count"}]
    yield (
        "batch",
        await client.post(
            "/", data={"access_token": DEMO_ACCESS_TOKEN, "batch": json.dumps(batch)}
        ),
    )
    yield "old-version", await get(f"/v12.0/{ig}", fields="username")


# --- Meta Ads ---------------------------------------------------------------------------

ADS_NOW = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)
ADS_FIELDS = (
    "spend,impressions,reach,clicks,cpc,ctr,cpm,frequency,unique_clicks,inline_link_clicks,"
    "outbound_clicks,actions,action_values,unique_actions,cost_per_action_type,"
    "video_play_actions,video_p25_watched_actions,video_p100_watched_actions,"
    "video_thruplay_watched_actions,purchase_roas,conversions,cost_per_result,results"
)
ADS_BREAKDOWNS = (
    "",
    "publisher_platform",
    "publisher_platform,platform_position",
    "device_platform",
    "impression_device",
    "age",
    "gender",
    "age,gender",
    "country",
    "region",
    "hourly_stats_aggregated_by_audience_time_zone",
    "hourly_stats_aggregated_by_advertiser_time_zone",
    "age,country",
)


async def _facebook_ads(client: httpx.AsyncClient, network: Any) -> Any:
    def get(path: str, **params: Any) -> Awaitable[httpx.Response]:
        query = {"access_token": DEMO_ACCESS_TOKEN, **{k: str(v) for k, v in params.items()}}
        return client.get(path, params=query)

    act = AD_ACCOUNT_ID
    yield (
        "me/adaccounts",
        await get("/v24.0/me/adaccounts", fields="id,name,currency,timezone_name,account_status"),
    )
    yield (
        "account",
        await get(
            f"/v24.0/{act}",
            fields="account_id,name,currency,timezone_name,timezone_offset_hours_utc,"
            "amount_spent,balance,spend_cap,business_name,created_time",
        ),
    )
    for edge, fields in (
        ("campaigns", "name,objective,status,start_time,stop_time,buying_type"),
        ("adsets", "name,campaign_id,optimization_goal,targeting,start_time,end_time"),
        ("ads", "name,adset_id,campaign_id,status,creative{id,object_type,url_tags,link_url}"),
    ):
        yield f"{edge}", await get(f"/v24.0/{act}/{edge}", fields=fields, limit=3)
        yield (
            f"{edge}/page2",
            await get(f"/v24.0/{act}/{edge}", fields=fields, limit=3, after="Mw=="),
        )
        yield (
            f"{edge}/active",
            await get(f"/v24.0/{act}/{edge}", fields=fields, effective_status='["ACTIVE"]'),
        )
    yield "unknown-object", await get("/v24.0/999")
    yield "bad-version", await get(f"/vX/{act}")
    # Expired on 2025-09-09 for the Marketing API: refused with #2635.
    yield "expired-version", await get(f"/v21.0/{act}")
    yield "no-token", await client.get(f"/v24.0/{act}")
    ranges = (
        ("2024-10-01", "2024-12-31"),
        ("2025-12-01", "2025-12-31"),
        ("2026-01-01", "2026-01-15"),
    )
    for since, until in ranges:
        time_range = json.dumps({"since": since, "until": until})
        for breakdowns in ADS_BREAKDOWNS:
            for level in ("account", "campaign", "ad"):
                params: dict[str, Any] = {
                    "fields": ADS_FIELDS + ",campaign_id,ad_id",
                    "time_range": time_range,
                    "level": level,
                    "limit": 500,
                }
                if breakdowns:
                    params["breakdowns"] = breakdowns
                yield (
                    f"insights/{since}/{breakdowns}/{level}",
                    await get(f"/v24.0/{act}/insights", **params),
                )
        yield (
            f"insights/{since}/daily",
            await get(
                f"/v24.0/{act}/insights",
                fields=ADS_FIELDS,
                time_range=time_range,
                time_increment=1,
                level="ad",
                limit=40,
            ),
        )
        yield (
            f"insights/{since}/attribution",
            await get(
                f"/v24.0/{act}/insights",
                fields="actions,action_values",
                time_range=time_range,
                action_attribution_windows='["1d_click","7d_click","1d_view"]',
                action_breakdowns="action_type",
            ),
        )
    yield (
        "insights/filtered",
        await get(
            f"/v24.0/{act}/insights",
            fields="spend,impressions,campaign_name",
            level="campaign",
            date_preset="last_90d",
            filtering=json.dumps(
                [{"field": "campaign.objective", "operator": "IN", "value": ["OUTCOME_SALES"]}]
            ),
        ),
    )
    for preset in ("today", "yesterday", "last_7d", "this_month", "maximum"):
        yield (
            f"insights/preset/{preset}",
            await get(
                f"/v24.0/{act}/insights", fields="spend,impressions,reach", date_preset=preset
            ),
        )
    yield "insights/bad-field", await get(f"/v24.0/{act}/insights", fields="nope")
    yield (
        "insights/bad-breakdown",
        await get(f"/v24.0/{act}/insights", fields="spend", breakdowns="age,publisher_platform"),
    )
    yield (
        "insights/too-much",
        await get(
            f"/v24.0/{act}/insights",
            fields=ADS_FIELDS,
            time_range=json.dumps({"since": "2024-01-01", "until": "2026-01-14"}),
            time_increment=1,
            level="ad",
            breakdowns="hourly_stats_aggregated_by_audience_time_zone",
        ),
    )
    for ad in ("120200000000000301", "120200000000000309"):
        yield f"{ad}", await get(f"/v24.0/{ad}", fields="name,creative{url_tags}")
        yield (
            f"{ad}/insights",
            await get(f"/v24.0/{ad}/insights", fields=ADS_FIELDS, date_preset="last_30d"),
        )
    started = await client.post(
        f"/v24.0/{act}/insights",
        data={
            "access_token": DEMO_ACCESS_TOKEN,
            "fields": ADS_FIELDS,
            "level": "ad",
            "time_range": json.dumps({"since": "2025-06-01", "until": "2025-06-30"}),
            "breakdowns": "age,gender",
        },
    )
    yield "report-run", started
    run_id = started.json()["report_run_id"]
    for poll in range(3):
        yield f"report-run/poll{poll}", await get(f"/v24.0/{run_id}")
    yield "report-run/rows", await get(f"/v24.0/{run_id}/insights", limit=100)


# --- GA4 --------------------------------------------------------------------------------

GA4_NOW = datetime(2026, 3, 18, 18, 30, tzinfo=UTC)
GA4_DIMENSION_SETS = (
    [],
    ["date"],
    ["sessionDefaultChannelGroup"],
    ["sessionSourceMedium"],
    ["sessionSource", "sessionMedium"],
    ["sessionCampaignName"],
    ["deviceCategory"],
    ["country"],
    ["city"],
    ["newVsReturning"],
    ["landingPage"],
    ["landingPagePlusQueryString"],
    ["pagePath"],
    ["pageTitle"],
    ["eventName"],
    ["eventName", "isKeyEvent"],
    ["itemName"],
    ["date", "deviceCategory"],
    ["googleAdsCampaignName"],
    ["googleAdsKeyword"],
    ["dayOfWeek"],
    ["yearMonth"],
)
GA4_METRIC_SETS = (
    ["sessions", "engagedSessions", "totalUsers", "activeUsers", "newUsers", "eventCount"],
    ["screenPageViews", "keyEvents", "conversions", "eventValue", "userEngagementDuration"],
    ["purchaseRevenue", "grossPurchaseRevenue", "refundAmount", "totalRevenue", "transactions"],
    ["ecommercePurchases", "totalPurchasers", "firstTimePurchasers", "bounceRate"],
    ["engagementRate", "averageSessionDuration", "sessionsPerUser", "screenPageViewsPerSession"],
    ["itemsViewed", "itemsPurchased", "itemRevenue", "itemsAddedToCart"],
    ["advertiserAdClicks", "advertiserAdCost", "advertiserAdImpressions", "returnOnAdSpend"],
    ["organicGoogleSearchClicks", "organicGoogleSearchImpressions"],
)


async def _google_analytics_4(client: httpx.AsyncClient, network: Any) -> Any:
    auth = {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}
    url = f"/v1beta/{GA4_PROPERTY_ID}:runReport"

    def report(body: dict[str, Any], headers: dict[str, str] = auth) -> Awaitable[httpx.Response]:
        return client.post(url, json=body, headers=headers)

    yield "metadata", await client.get(f"/v1beta/{GA4_PROPERTY_ID}/metadata", headers=auth)
    ranges = (
        [{"startDate": "2026-02-16", "endDate": "2026-03-15"}],
        [{"startDate": "2025-11-01", "endDate": "2025-11-30"}],
        [{"startDate": "2026-03-17", "endDate": "today"}],
        [
            {"startDate": "7daysAgo", "endDate": "yesterday", "name": "this"},
            {"startDate": "14daysAgo", "endDate": "8daysAgo", "name": "previous"},
        ],
    )
    for r, date_ranges in enumerate(ranges):
        for dims in GA4_DIMENSION_SETS:
            for m, metrics in enumerate(GA4_METRIC_SETS):
                yield (
                    f"report/{r}/{','.join(dims)}/{m}",
                    await report(
                        {
                            "dateRanges": date_ranges,
                            "dimensions": [{"name": d} for d in dims],
                            "metrics": [{"name": n} for n in metrics],
                            "limit": 25,
                            "returnPropertyQuota": True,
                        }
                    ),
                )
    base = {"dateRanges": list(ranges[0]), "metrics": [{"name": "sessions"}]}
    yield (
        "ordered",
        await report(
            {
                **base,
                "dimensions": [{"name": "country"}],
                "orderBys": [{"metric": {"metricName": "sessions"}, "desc": True}],
                "limit": 5,
                "offset": 2,
            }
        ),
    )
    yield (
        "filtered",
        await report(
            {
                **base,
                "dimensions": [{"name": "sessionSource"}],
                "dimensionFilter": {
                    "filter": {
                        "fieldName": "sessionMedium",
                        "stringFilter": {"matchType": "EXACT", "value": "organic"},
                    }
                },
                "metricFilter": {
                    "filter": {
                        "fieldName": "sessions",
                        "numericFilter": {
                            "operation": "GREATER_THAN",
                            "value": {"int64Value": "3"},
                        },
                    }
                },
                "metricAggregations": ["TOTAL", "MAXIMUM", "MINIMUM"],
                "keepEmptyRows": True,
            }
        ),
    )
    yield "bad-metric", await report({**base, "metrics": [{"name": "nope"}]})
    yield "bad-dimension", await report({**base, "dimensions": [{"name": "nope"}]})
    yield "no-token", await report(base, headers={})
    yield "foreign-token", await report(base, headers={"Authorization": "Bearer ya29.x"})
    yield (
        "other-property",
        await client.post("/v1beta/properties/999:runReport", json=base, headers=auth),
    )
    yield (
        "batch",
        await client.post(
            f"/v1beta/{GA4_PROPERTY_ID}:batchRunReports",
            json={"requests": [base, {**base, "dimensions": [{"name": "deviceCategory"}]}]},
            headers=auth,
        ),
    )
    yield "not-found", await client.get("/v1beta/nothing", headers=auth)


# --- Search Console ---------------------------------------------------------------------

SC_NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
SC_DIMENSION_SETS = (
    [],
    ["date"],
    ["query"],
    ["page"],
    ["country"],
    ["device"],
    ["date", "device"],
    ["query", "country"],
    ["searchAppearance"],
)


async def _search_console(client: httpx.AsyncClient, network: Any) -> Any:
    auth = {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}
    url = "/webmasters/v3/sites/sc-domain%3Aacmecoffee.example/searchAnalytics/query"

    def query(body: dict[str, Any], headers: dict[str, str] = auth) -> Awaitable[httpx.Response]:
        return client.post(url, json=body, headers=headers)

    yield "sites", await client.get("/webmasters/v3/sites", headers=auth)
    ranges = (
        ("2026-08-01", "2026-10-31"),
        ("2025-06-01", "2025-08-31"),
        ("2026-11-10", "2026-11-20"),
    )
    for r, (start, end) in enumerate(ranges):
        for dims in SC_DIMENSION_SETS:
            for state in ("final", "all"):
                body = {"startDate": start, "endDate": end, "dimensions": dims, "dataState": state}
                yield f"query/{r}/{','.join(dims)}/{state}", await query(body)
    base = {"startDate": "2026-10-01", "endDate": "2026-10-31"}
    for kind in ("image", "video", "news", "discover", "googleNews"):
        yield f"type/{kind}", await query({**base, "type": kind, "dimensions": ["page"]})
    yield "paged", await query({**base, "dimensions": ["query"], "rowLimit": 5, "startRow": 3})
    flt = {"dimension": "page", "operator": "contains", "expression": "/shop/"}
    yield (
        "filtered",
        await query(
            {**base, "dimensions": ["query"], "dimensionFilterGroups": [{"filters": [flt]}]}
        ),
    )
    yield "bad-row-limit", await query({**base, "rowLimit": 25_001})
    yield "no-token", await query(base, headers={})
    yield (
        "unverified",
        await client.post(
            "/webmasters/v3/sites/https%3A%2F%2Fold.acmecoffee.example%2F/searchAnalytics/query",
            json=base,
            headers=auth,
        ),
    )
    yield "not-found", await client.get("/webmasters/v3/nothing", headers=auth)


# --- YouTube ------------------------------------------------------------------------------

YT_NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
YT_REPORTS = (
    {
        "metrics": "views,likes,dislikes,comments,shares,subscribersGained,subscribersLost,"
        "estimatedMinutesWatched,averageViewDuration,averageViewPercentage",
        "dimensions": "day",
    },
    {"metrics": "views,estimatedMinutesWatched", "dimensions": "day,creatorContentType"},
    {"metrics": "views,estimatedMinutesWatched,averageViewPercentage", "dimensions": "country"},
    {
        "metrics": "views,likes,subscribersGained",
        "dimensions": "video",
        "sort": "-views",
        "maxResults": "50",
    },
    {"metrics": "viewerPercentage", "dimensions": "ageGroup,gender"},
    {"metrics": "views", "filters": "creatorContentType==SHORTS"},
    {"metrics": "views", "dimensions": "video"},  # refused: no sort and maxResults
)


async def _youtube(client: httpx.AsyncClient, network: Any) -> Any:
    auth = {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}
    for r, (start, end) in enumerate((("2026-08-22", "2026-11-20"), ("2025-06-01", "2025-06-30"))):
        for q, query in enumerate(YT_REPORTS):
            params = {"ids": "channel==MINE", "startDate": start, "endDate": end, **query}
            yield f"report/{r}/{q}", await client.get("/v2/reports", params=params, headers=auth)
    channel = await client.get(
        "/youtube/v3/channels",
        params={"part": "snippet,statistics,contentDetails", "mine": "true"},
        headers=auth,
    )
    yield "channels", channel
    uploads = channel.json()["items"][0]["contentDetails"]["relatedPlaylists"]["uploads"]
    params = {"part": "snippet,contentDetails", "playlistId": uploads, "maxResults": "50"}
    page = await client.get("/youtube/v3/playlistItems", params=params, headers=auth)
    yield "playlistItems", page
    ids = ",".join(i["contentDetails"]["videoId"] for i in page.json()["items"])
    yield (
        "videos",
        await client.get(
            "/youtube/v3/videos",
            params={"part": "snippet,statistics,contentDetails", "id": ids},
            headers=auth,
        ),
    )


NETWORKS: dict[str, tuple[datetime, str, Callable[..., Any]]] = {
    "instagram_business": (IG_NOW, "http://graph.test", _instagram),
    "facebook_ads": (ADS_NOW, "http://graph.test", _facebook_ads),
    "google_analytics_4": (GA4_NOW, "http://analyticsdata.test", _google_analytics_4),
    "search_console": (SC_NOW, "http://searchconsole.test", _search_console),
    "youtube": (YT_NOW, "http://youtube.test", _youtube),
}


def fingerprint(slug: str) -> dict[str, str]:
    now, base_url, probes = NETWORKS[slug]
    return asyncio.run(_run(slug, now, base_url, probes))


if __name__ == "__main__":
    SNAPSHOT.write_text(
        json.dumps({slug: fingerprint(slug) for slug in NETWORKS}, indent=1, sort_keys=True) + "\n"
    )
    print(f"wrote {SNAPSHOT}")
