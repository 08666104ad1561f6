"""Which Insights API fields the connector asks for, and how a response row flattens.

The Insights API answers numbers as strings and action metrics as lists of
`{"action_type", "value"}`; a row flattens to scalar fields:
- `actions` -> `actions:<action_type>`, `action_values` -> `action_values:<action_type>`
  (the catalog addresses them as `actions:link_click`...);
- lists of one action type (`video_p25_watched_actions`, `outbound_clicks`...) -> the
  sum of their values under the field's own name;
- `results` (one entry per result indicator) -> the sum of their values.
Ratios (cpc, ctr, cost_per_action_type...) are not asked for: the engine computes them
from summed parts, so they stay right over any period and any grouping.
"""

from __future__ import annotations

from typing import Any

from metrics_connect.connectors.base import Scalar

ACTION_LIST_FIELDS = ("actions", "action_values")

# Additive numbers, summed over days and breakdown values.
DAILY_NUMBERS = (
    "impressions",
    "clicks",
    "spend",
    "social_spend",
    "inline_link_clicks",
    "inline_post_engagement",
    "full_view_impressions",
    "instagram_upcoming_event_reminders_set",
    "instant_experience_clicks_to_open",
    "instant_experience_clicks_to_start",
    "instant_experience_outbound_clicks",
    "marketing_messages_spend",
    "marketing_messages_website_purchase_values",
    "onsite_conversion_messaging_detected_purchase_deduped",
    "shops_assisted_purchases",
    "total_postbacks",
    "dda_countby_convs",
    "dda_results",
    "adjusted_offline_purchase",
)
# Lists whose values are summed under the field's name.
DAILY_LISTS = (
    "outbound_clicks",
    "conversions",
    "conversion_values",
    "ad_click_actions",
    "ad_impression_actions",
    "catalog_segment_actions",
    "catalog_segment_value",
    "converted_product_quantity",
    "converted_product_value",
    "interactive_component_tap",
    "total_postbacks_detailed",
    "total_postbacks_detailed_v4",
    "video_play_actions",
    "video_p25_watched_actions",
    "video_p50_watched_actions",
    "video_p75_watched_actions",
    "video_p95_watched_actions",
    "video_p100_watched_actions",
    "video_thruplay_watched_actions",
    "video_15_sec_watched_actions",
    "video_30_sec_watched_actions",
    "video_continuous_2_sec_watched_actions",
    "video_time_watched_actions",
    "results",
)
# Fields Meta does not serve with hourly breakdowns (unique counts and video metrics).
NOT_HOURLY = frozenset({"reach", *[f for f in DAILY_LISTS if f.startswith("video_")]})

# Period-unique or period-computed figures: asked for the exact period, never summed.
PERIOD_NUMBERS = (
    "reach",
    "unique_clicks",
    "unique_inline_link_clicks",
    "estimated_ad_recallers",
    "estimated_ad_recallers_lower_bound",
    "estimated_ad_recallers_upper_bound",
    "estimated_ad_recall_rate_lower_bound",
    "estimated_ad_recall_rate_upper_bound",
    "full_view_reach",
    "auction_bid",
    "auction_competitiveness",
    "auction_max_competitor_bid",
    "wish_bid",
    "canvas_avg_view_percent",
    "canvas_avg_view_time",
    "qualifying_question_qualify_answer_rate",
    "marketing_messages_cost_per_delivered",
    "marketing_messages_cost_per_link_btn_click",
)
PERIOD_LISTS = (
    "unique_outbound_clicks",
    "unique_video_view_15_sec",
    "unique_video_continuous_2_sec_watched_actions",
    "unique_conversions",
    "video_avg_time_watched_actions",
    "video_play_curve_actions",
    "video_play_retention_0_to_15s_actions",
    "video_play_retention_20_to_60s_actions",
    "video_play_retention_graph_actions",
    "catalog_segment_value_mobile_purchase_roas",
    "catalog_segment_value_omni_purchase_roas",
    "catalog_segment_value_website_purchase_roas",
)
# Text fields of an insights row (the row's entity and account).
ROW_ATTRIBUTES = (
    "date_start",
    "date_stop",
    "account_id",
    "account_name",
    "account_currency",
    "campaign_id",
    "campaign_name",
    "adset_id",
    "adset_name",
    "ad_id",
    "ad_name",
    "objective",
    "optimization_goal",
    "buying_type",
    "attribution_setting",
    "adset_start",
    "adset_end",
    "age_targeting",
    "gender_targeting",
    "quality_ranking",
    "engagement_rate_ranking",
    "conversion_rate_ranking",
    "labels",
    "location",
    "place_page_name",
)
# Attributes read from the objects (GET /act_{id}/campaigns|ads), joined by id.
CAMPAIGN_ATTRIBUTES = ("status", "start_time", "stop_time")
AD_ATTRIBUTES = (
    "created_time",
    "updated_time",
    "creative_media_type",
    "destination_urls",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "utm_source_tag",
    "utm_medium_tag",
    "utm_campaign_tag",
    "utm_term_tag",
    "utm_content_tag",
)
ENTITY_ATTRIBUTES = ROW_ATTRIBUTES + CAMPAIGN_ATTRIBUTES + AD_ATTRIBUTES
# The row attributes each level carries (Meta answers the fields of the row's entity).
LEVEL_ATTRIBUTES = {
    "account": (
        "date_start",
        "date_stop",
        "account_id",
        "account_name",
        "account_currency",
        "attribution_setting",
    ),
    "campaign": ("campaign_id", "campaign_name", "objective", "buying_type"),
    "adset": (
        "adset_id",
        "adset_name",
        "optimization_goal",
        "adset_start",
        "adset_end",
        "age_targeting",
        "gender_targeting",
    ),
    "ad": (
        "ad_id",
        "ad_name",
        "quality_ranking",
        "engagement_rate_ranking",
        "conversion_rate_ranking",
        "labels",
    ),
}
LEVELS = ("account", "campaign", "adset", "ad")


def number(raw: Any) -> float | int | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return raw
    text = str(raw)
    try:
        return float(text) if "." in text or "e" in text or "E" in text else int(text)
    except ValueError:
        return None


def list_total(items: Any) -> float | int | None:
    """The sum of a list field's values (results: of each indicator's values)."""
    if not isinstance(items, list):
        return None
    total: float | int = 0
    seen = False
    for item in items:
        if not isinstance(item, dict):
            continue
        values = item.get("values")
        parts = values if isinstance(values, list) else [item]
        for part in parts:
            value = number(part.get("value")) if isinstance(part, dict) else None
            if value is not None:
                total += value
                seen = True
    return total if seen else None


def flatten(
    row: dict[str, Any], numbers: frozenset[str], lists: frozenset[str]
) -> dict[str, Scalar]:
    values: dict[str, Scalar] = {}
    for name, raw in row.items():
        if name in numbers:
            value = number(raw)
        elif name in lists:
            value = list_total(raw)
        elif name in ACTION_LIST_FIELDS and isinstance(raw, list):
            for item in raw:
                action_type = item.get("action_type") if isinstance(item, dict) else None
                count = number(item.get("value")) if action_type else None
                if action_type and count is not None:
                    values[f"{name}:{action_type}"] = count
            continue
        else:
            continue
        if value is not None:
            values[name] = value
    return values


def action_rows(row: dict[str, Any], unique: bool) -> dict[str, dict[str, Scalar]]:
    """Per action type: {actions, action_values} (or unique_actions) of one response row."""
    out: dict[str, dict[str, Scalar]] = {}
    sources = (
        (("unique_actions", "unique_actions"),)
        if unique
        else (
            ("actions", "actions"),
            ("action_values", "action_values"),
        )
    )
    for list_name, field_name in sources:
        for item in row.get(list_name) or []:
            action_type = item.get("action_type") if isinstance(item, dict) else None
            value = number(item.get("value")) if action_type else None
            if action_type and value is not None:
                out.setdefault(str(action_type), {})[field_name] = value
    return out


def action_totals(row: dict[str, Any]) -> dict[str, Scalar]:
    """`actions` and `action_values` of one response row summed over its action types."""
    totals: dict[str, Scalar] = {}
    for name in ACTION_LIST_FIELDS:
        total = list_total(row.get(name))
        if total is not None:
            totals[name] = total
    return totals


# Action types the catalog addresses (actions:<type>, action_values:<type>, spend:<type>);
# any other type a response carries is flattened too.
ACTION_TYPES: tuple[str, ...] = (
    "ad_click_mobile_app",
    "ad_impression_mobile_app",
    "add_payment_info",
    "add_to_cart",
    "app_custom_event.fb_mobile_achievement_unlocked",
    "app_custom_event.fb_mobile_activate_app",
    "app_custom_event.fb_mobile_add_payment_info",
    "app_custom_event.fb_mobile_add_to_cart",
    "app_custom_event.fb_mobile_add_to_wishlist",
    "app_custom_event.fb_mobile_complete_registration",
    "app_custom_event.fb_mobile_content_view",
    "app_custom_event.fb_mobile_initiated_checkout",
    "app_custom_event.fb_mobile_level_achieved",
    "app_custom_event.fb_mobile_purchase",
    "app_custom_event.fb_mobile_rate",
    "app_custom_event.fb_mobile_search",
    "app_custom_event.fb_mobile_spent_credits",
    "app_custom_event.fb_mobile_tutorial_completion",
    "app_custom_event.other",
    "app_install",
    "app_use",
    "cancel_subscription_mobile_app",
    "cancel_subscription_offline",
    "cancel_subscription_total",
    "cancel_subscription_website",
    "checkin",
    "click_to_call_call_confirm",
    "click_to_call_native_20s_call_connect",
    "click_to_call_native_60s_call_connect",
    "click_to_call_native_call_placed",
    "comment",
    "contact_mobile_app",
    "contact_offline",
    "contact_total",
    "contact_website",
    "credit_spent",
    "customize_product_mobile_app",
    "customize_product_offline",
    "customize_product_total",
    "customize_product_website",
    "donate_mobile_app",
    "donate_offline",
    "donate_on_facebook",
    "donate_total",
    "donate_website",
    "find_location_mobile_app",
    "find_location_offline",
    "find_location_total",
    "find_location_website",
    "games.plays",
    "initiate_checkout",
    "landing_page_view",
    "lead",
    "leadgen_grouped",
    "like",
    "link_click",
    "mobile_app_install",
    "offsite_conversion.fb_pixel_add_payment_info",
    "offsite_conversion.fb_pixel_add_to_cart",
    "offsite_conversion.fb_pixel_add_to_wishlist",
    "offsite_conversion.fb_pixel_complete_registration",
    "offsite_conversion.fb_pixel_custom",
    "offsite_conversion.fb_pixel_initiate_checkout",
    "offsite_conversion.fb_pixel_lead",
    "offsite_conversion.fb_pixel_purchase",
    "offsite_conversion.fb_pixel_search",
    "offsite_conversion.fb_pixel_view_content",
    "omni_achievement_unlocked",
    "omni_activate_app",
    "omni_add_to_cart",
    "omni_app_install",
    "omni_complete_registration",
    "omni_custom",
    "omni_initiated_checkout",
    "omni_landing_page_view",
    "omni_level_achieved",
    "omni_purchase",
    "omni_rate",
    "omni_search",
    "omni_spend_credits",
    "omni_tutorial_completion",
    "omni_view_content",
    "onsite_conversion.fb_pixel_add_to_cart",
    "onsite_conversion.flow_complete",
    "onsite_conversion.lead_grouped",
    "onsite_conversion.messaging_block",
    "onsite_conversion.messaging_conversation_started_7d",
    "onsite_conversion.messaging_first_reply",
    "onsite_conversion.messaging_user_subscribed",
    "onsite_conversion.post_save",
    "onsite_conversion.purchase",
    "onsite_conversion.total_messaging_connection",
    "page_engagement",
    "photo_view",
    "post",
    "post_engagement",
    "post_reaction",
    "purchase",
    "recurring_subscription_payment_mobile_app",
    "recurring_subscription_payment_offline",
    "recurring_subscription_payment_total",
    "recurring_subscription_payment_website",
    "rsvp",
    "schedule_mobile_app",
    "schedule_offline",
    "schedule_total",
    "schedule_website",
    "start_trial_mobile_app",
    "start_trial_offline",
    "start_trial_total",
    "start_trial_website",
    "submit_application_mobile_app",
    "submit_application_offline",
    "submit_application_on_facebook",
    "submit_application_total",
    "submit_application_website",
    "subscribe_mobile_app",
    "subscribe_offline",
    "subscribe_total",
    "subscribe_website",
    "video_view",
    "view_content",
)
