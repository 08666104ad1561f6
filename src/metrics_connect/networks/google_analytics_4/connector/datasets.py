"""What the GA4 connector can fetch: datasets over the Data API's dimensions and metrics.

GA4 answers at most 10 metrics per report and only compatible dimension/metric sets,
so metrics are grouped into datasets of one scope each:

- daily additive metrics (sessions, events, revenue...) by `date` plus any breakdown;
- `users`: unique counts (totalUsers, activeUsers, purchasers) asked for the exact
  period, never summed from days; `users_daily` gives each day's own figure for charts
  by date;
- item-scoped metrics by itemName; linked Google Ads cost data; linked Search Console
  data (which arrives two days late).
"""

from __future__ import annotations

from dataclasses import dataclass

from metrics_connect.connectors.base import DatasetSpec

# GA4 dimensions (API names) that session-, user- and event-scoped metrics accept.
TRAFFIC_DIMENSIONS = (
    "userGender",
    "userAgeBracket",
    "eventName",
    "isKeyEvent",
    "country",
    "region",
    "city",
    "deviceCategory",
    "pagePath",
    "pageTitle",
    "landingPagePlusQueryString",
    "sessionDefaultChannelGroup",
    "sessionSource",
    "sessionMedium",
    "sessionSourceMedium",
    "sessionSourcePlatform",
    "sessionCampaignName",
    "sessionGoogleAdsAccountName",
    "googleAdsKeyword",
    "googleAdsCampaignName",
    "source",
    "medium",
    "sourceMedium",
    "campaignName",
    "manualAdContent",
    "manualTerm",
    "firstUserSource",
    "firstUserMedium",
    "firstUserCampaignName",
    "firstUserManualTerm",
    "firstUserManualAdContent",
    "newVsReturning",
)
# Dimensions the linked Google Ads cost data (advertiser* metrics) is compatible with.
GOOGLE_ADS_DIMENSIONS = (
    "googleAdsCampaignName",
    "googleAdsKeyword",
    "sessionGoogleAdsAccountName",
    "sessionCampaignName",
    "sessionSource",
    "sessionMedium",
    "sessionSourceMedium",
    "sessionSourcePlatform",
    "sessionDefaultChannelGroup",
    "campaignName",
    "source",
    "medium",
    "sourceMedium",
)
SEARCH_CONSOLE_DIMENSIONS = ("landingPagePlusQueryString", "country", "deviceCategory")


@dataclass(frozen=True)
class Derived:
    """A field the connector computes per row from GA4 fields of the same row."""

    name: str
    minuend: str
    subtrahend: str


@dataclass(frozen=True)
class Ga4Dataset:
    spec: DatasetSpec
    # The GA4 metrics one runReport asks for (at most 10).
    metrics: tuple[str, ...]
    derived: tuple[Derived, ...] = ()


def _dataset(
    name: str,
    kind: str,
    metrics: tuple[str, ...],
    breakdowns: tuple[str, ...],
    description: str,
    *,
    derived: tuple[Derived, ...] = (),
    settle_after_days: int = 2,
) -> Ga4Dataset:
    assert len(metrics) <= 10, "GA4 answers at most 10 metrics per report"
    return Ga4Dataset(
        spec=DatasetSpec(
            name=name,
            kind=kind,  # type: ignore[arg-type]
            fields=metrics + tuple(d.name for d in derived),
            breakdowns=breakdowns,
            filters_breakdowns_upstream=True,
            settle_after_days=settle_after_days,
            fresh_seconds=3600,
            description=description,
        ),
        metrics=metrics,
        derived=derived,
    )


GA4_DATASETS: dict[str, Ga4Dataset] = {
    d.spec.name: d
    for d in (
        _dataset(
            "traffic",
            "daily",
            (
                "sessions",
                "engagedSessions",
                "newUsers",
                "screenPageViews",
                "eventCount",
                "userEngagementDuration",
                "keyEvents",
                "eventValue",
                "totalRevenue",
            ),
            TRAFFIC_DIMENSIONS,
            "Sessions, engagement, events, key events and revenue per day.",
        ),
        _dataset(
            "ecommerce",
            "daily",
            (
                "transactions",
                "ecommercePurchases",
                "purchaseRevenue",
                "grossPurchaseRevenue",
                "addToCarts",
                "checkouts",
                "itemViewEvents",
                "totalAdRevenue",
                "firstTimePurchasers",
            ),
            TRAFFIC_DIMENSIONS,
            "Ecommerce funnel and revenue per day; abandonedCarts = checkouts - purchases.",
            derived=(Derived("abandonedCarts", "checkouts", "ecommercePurchases"),),
        ),
        _dataset(
            "users",
            "period",
            ("totalUsers", "activeUsers", "totalPurchasers", "cartToViewRate"),
            TRAFFIC_DIMENSIONS,
            "Unique users and purchasers, and the cart-to-view rate, for the exact period.",
        ),
        _dataset(
            "users_daily",
            "daily",
            ("totalUsers", "activeUsers", "totalPurchasers"),
            TRAFFIC_DIMENSIONS,
            "Each day's own unique users (for charts by date; never summed over a period).",
        ),
        _dataset(
            "items",
            "daily",
            ("itemsViewed", "itemsAddedToCart", "itemsPurchased", "itemRevenue"),
            ("itemName",),
            "Item-scoped ecommerce quantities and revenue per day.",
        ),
        _dataset(
            "google_ads",
            "daily",
            ("advertiserAdClicks", "advertiserAdCost", "advertiserAdImpressions"),
            GOOGLE_ADS_DIMENSIONS,
            "Linked Google Ads clicks, cost and impressions per day.",
        ),
        _dataset(
            "organic_search",
            "daily",
            ("organicGoogleSearchClicks", "organicGoogleSearchImpressions"),
            SEARCH_CONSOLE_DIMENSIONS,
            "Linked Search Console clicks and impressions per day (two days late).",
            settle_after_days=4,
        ),
        _dataset(
            "organic_search_period",
            "period",
            (
                "organicGoogleSearchAveragePosition",
                "organicGoogleSearchClicks",
                "organicGoogleSearchImpressions",
            ),
            SEARCH_CONSOLE_DIMENSIONS,
            "Search Console average position for the exact period (not additive).",
            settle_after_days=4,
        ),
    )
}

DATASET_SPECS: dict[str, DatasetSpec] = {name: d.spec for name, d in GA4_DATASETS.items()}
# Linked Search Console data for a day arrives two days later (today and yesterday lack it).
SEARCH_CONSOLE_DELAY_DAYS = 2
