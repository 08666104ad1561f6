"""The Meta Ads datasets: what the connector can produce and how each one settles.

Meta restates ads data for up to 28 days (late conversions are attributed to the day
of the impression or click, within the attribution windows): days stay unsettled for
28 days and are refetched once `fresh_seconds` have passed; older days never are.
Insights are kept for 37 months.

Breakdown keys of the datasets:
- Meta's breakdowns (one family per call: placement, age x gender, geography, hour);
- `campaign_name`, `adset_name`, `ad_name`: the row's entity (the Insights `level`);
  rows also carry the entity's ids and attributes (status, objective, utm_* ...);
- `action_type` (actions datasets): Meta's default action breakdown.
Pushdown filters: `campaign_id`, `adset_id`, `ad_id` (entity_id/entity_type: the
entity's own insights node) and the breakdown fields (Meta's `filtering`).
"""

from __future__ import annotations

from metrics_connect.connectors.base import DatasetSpec
from metrics_connect.networks.facebook_ads.connector.fields import (
    ACTION_TYPES,
    DAILY_LISTS,
    DAILY_NUMBERS,
    ENTITY_ATTRIBUTES,
    PERIOD_LISTS,
    PERIOD_NUMBERS,
)

SETTLE_DAYS = 28
FRESH_SECONDS = 1800
LIVE_DAYS = 37 * 30
MAX_DAYS_PER_CALL = 31

PLACEMENT = ("publisher_platform", "platform_position", "device_platform", "impression_device")
DEMOGRAPHIC = ("age", "gender")
GEO = ("country", "region")
HOURLY = (
    "hourly_stats_aggregated_by_audience_time_zone",
    "hourly_stats_aggregated_by_advertiser_time_zone",
)
META_BREAKDOWNS = PLACEMENT + DEMOGRAPHIC + GEO + HOURLY
ENTITY_KEYS = {"campaign_name": "campaign", "adset_name": "adset", "ad_name": "ad"}
ENTITY_FILTERS = {"campaign_id": "campaign", "adset_id": "adset", "ad_id": "ad"}

ACTION_FIELDS = tuple(f"actions:{t}" for t in ACTION_TYPES) + tuple(
    f"action_values:{t}" for t in ACTION_TYPES
)

INSIGHTS_DAILY = DatasetSpec(
    name="insights_daily",
    kind="daily",
    fields=("reach", *DAILY_NUMBERS, *DAILY_LISTS, *ACTION_FIELDS, *ENTITY_ATTRIBUTES),
    breakdowns=(*META_BREAKDOWNS, *ENTITY_KEYS),
    settle_after_days=SETTLE_DAYS,
    fresh_seconds=FRESH_SECONDS,
    max_days_per_call=MAX_DAYS_PER_CALL,
    live_days=LIVE_DAYS,
    description=(
        "GET /act_{id}/insights (or /{entity-id}/insights) with time_increment=1: spend, "
        "impressions, clicks, actions by type... per day in the account time zone; `reach` "
        "here is each day's own unique figure. Large queries run as async report runs."
    ),
)

ACTIONS_DAILY = DatasetSpec(
    name="actions_daily",
    kind="daily",
    fields=("actions", "action_values"),
    breakdowns=("action_type", *META_BREAKDOWNS, *ENTITY_KEYS),
    settle_after_days=SETTLE_DAYS,
    fresh_seconds=FRESH_SECONDS,
    max_days_per_call=MAX_DAYS_PER_CALL,
    live_days=LIVE_DAYS,
    description=(
        "The `actions` and `action_values` lists of the daily insights, one row per "
        "action_type (Meta's default action breakdown)."
    ),
)

INSIGHTS_PERIOD = DatasetSpec(
    name="insights_period",
    kind="period",
    fields=(*PERIOD_NUMBERS, *PERIOD_LISTS, "unique_actions", "entities", *ENTITY_ATTRIBUTES),
    breakdowns=(*PLACEMENT, *DEMOGRAPHIC, *GEO, *ENTITY_KEYS, "action_type"),
    filters_breakdowns_upstream=True,
    settle_after_days=SETTLE_DAYS,
    fresh_seconds=FRESH_SECONDS,
    live_days=LIVE_DAYS,
    description=(
        "GET .../insights with time_range = the exact period and no time_increment: the "
        "network's own unique figures (reach, unique clicks, estimated ad recallers...), "
        "never sums of days. `entities` is 1 per row: with the option level=ad it counts "
        "the ads that delivered in the period. Unique fields have no hourly breakdown."
    ),
)

ACCOUNT_SNAPSHOT = DatasetSpec(
    name="account_snapshot",
    kind="snapshot",
    fields=("amount_spent", "balance", "spend_cap", "available_balance"),
    settle_after_days=1,
    fresh_seconds=3600,
    live_days=1,
    description=(
        "GET /act_{id}?fields=amount_spent,balance,spend_cap (minor units, converted to "
        "the account currency): lifetime spend, billed-but-unpaid balance, spending cap; "
        "available_balance = spend_cap - amount_spent - balance. Archived daily by the sync."
    ),
)

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec for spec in (INSIGHTS_DAILY, ACTIONS_DAILY, INSIGHTS_PERIOD, ACCOUNT_SNAPSHOT)
}
