"""The Insights API's query semantics over the raw truth: parameters in, rows out.

Follows the Marketing API Insights reference: `fields`, `level`, `time_range` /
`date_preset`, `time_increment` (1..90 days, `monthly`, `all_days`), `breakdowns`,
`action_breakdowns` (action_type), `action_attribution_windows`, `filtering`; numbers
as strings, money in the account currency with two decimals, action metrics as lists
of {action_type, value}; rows without delivery are omitted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from metrics_connect.networks.facebook_ads.emulator.data import (
    ACTION_PREFIX,
    BREAKDOWN_KEYS,
    UNIQUE_ACTION_PREFIX,
    VALUE_PREFIX,
    AdsData,
    Cell,
    Facts,
    action_count,
    group_for,
)
from metrics_connect.networks.facebook_ads.emulator.entities import (
    ACCOUNT,
    ADS,
    ADS_BY_ID,
    ADSETS_BY_ID,
    CAMPAIGNS_BY_ID,
)

LEVELS = ("account", "campaign", "adset", "ad")
MAX_MONTHS_BACK = 37


class InsightsError(Exception):
    """A Graph API error for the query (code 100 unless said otherwise)."""

    def __init__(self, message: str, code: int = 100, subcode: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode


def _money(cents: float) -> str:
    return f"{cents / 100:.2f}"


def _ratio(numerator: float, denominator: float, scale: float = 1.0) -> str | None:
    if not denominator:
        return None
    return f"{numerator * scale / denominator:.6f}"


def _count(value: float) -> str:
    return str(round(value))


# --- scalar fields: (facts) -> string | None -----------------------------------------

ScalarField = Callable[[Facts], str | None]


def _sum(key: str) -> ScalarField:
    return lambda f: _count(f[key]) if f.get(key) else None


def _sum_money(key: str) -> ScalarField:
    return lambda f: _money(f[key]) if key in f else None


def _div(num: str, den: str, scale: float = 1.0, money: bool = False) -> ScalarField:
    # Money in cents: a cost per thing divides cents, so scale back to units.
    factor = scale / 100 if money else scale
    return lambda f: _ratio(f.get(num, 0), f.get(den, 0), factor)


def _weighted(key: str, money: bool) -> ScalarField:
    return lambda f: _ratio(f.get(key, 0), f.get("impressions", 0), 0.01 if money else 1.0)


SCALAR_FIELDS: dict[str, ScalarField] = {
    "impressions": _sum("impressions"),
    "reach": _sum("reach"),
    "clicks": _sum("clicks"),
    "unique_clicks": _sum("unique_clicks"),
    "inline_link_clicks": _sum("inline_link_clicks"),
    "unique_inline_link_clicks": _sum("unique_inline_link_clicks"),
    "inline_post_engagement": _sum("inline_post_engagement"),
    "full_view_impressions": _sum("full_view_impressions"),
    "full_view_reach": _sum("full_view_reach"),
    "estimated_ad_recallers": _sum("estimated_ad_recallers"),
    "spend": _sum_money("spend"),
    "social_spend": _sum_money("spend"),
    "frequency": _div("impressions", "reach"),
    "cpc": _div("spend", "clicks", money=True),
    "cpm": _div("spend", "impressions", 1000, money=True),
    "cpp": _div("spend", "reach", 1000, money=True),
    "ctr": _div("clicks", "impressions", 100),
    "unique_ctr": _div("unique_clicks", "reach", 100),
    "inline_link_click_ctr": _div("inline_link_clicks", "impressions", 100),
    "unique_inline_link_click_ctr": _div("unique_inline_link_clicks", "reach", 100),
    "unique_link_clicks_ctr": _div("unique_inline_link_clicks", "reach", 100),
    "cost_per_inline_link_click": _div("spend", "inline_link_clicks", money=True),
    "cost_per_unique_click": _div("spend", "unique_clicks", money=True),
    "cost_per_unique_inline_link_click": _div("spend", "unique_inline_link_clicks", money=True),
    "cost_per_inline_post_engagement": _div("spend", "inline_post_engagement", money=True),
    "cost_per_estimated_ad_recallers": _div("spend", "estimated_ad_recallers", money=True),
    "estimated_ad_recall_rate": _div("estimated_ad_recallers", "reach", 100),
    "estimated_ad_recall_rate_lower_bound": _div("estimated_ad_recallers", "reach", 85),
    "estimated_ad_recall_rate_upper_bound": _div("estimated_ad_recallers", "reach", 115),
    "estimated_ad_recallers_lower_bound": lambda f: (
        _count(f["estimated_ad_recallers"] * 0.85) if f.get("estimated_ad_recallers") else None
    ),
    "estimated_ad_recallers_upper_bound": lambda f: (
        _count(f["estimated_ad_recallers"] * 1.15) if f.get("estimated_ad_recallers") else None
    ),
    "auction_bid": _weighted("auction_bid_x_impressions", money=True),
    "auction_max_competitor_bid": _weighted("auction_max_competitor_bid_x_impressions", True),
    "auction_competitiveness": _weighted("auction_competitiveness_x_impressions", False),
}

# --- list fields: (facts) -> [{action_type, value}] -----------------------------------

ListField = Callable[[Facts], list[dict[str, str]]]


def _one(action_type: str, value: str | None) -> list[dict[str, str]]:
    return [{"action_type": action_type, "value": value}] if value is not None else []


def _video(key: str) -> ListField:
    return lambda f: _one("video_view", _count(f[key])) if f.get(key) else []


def _video_cost(key: str) -> ListField:
    return lambda f: _one("video_view", _ratio(f.get("spend", 0), f.get(key, 0), 0.01))


def _actions(prefix: str, money: bool = False) -> ListField:
    def build(f: Facts) -> list[dict[str, str]]:
        out = []
        for k in sorted(f):
            if k.startswith(prefix):
                v = f[k]
                out.append(
                    {"action_type": k[len(prefix) :], "value": _money(v) if money else str(v)}
                )
        return out

    return build


def _cost_per(prefix: str) -> ListField:
    def build(f: Facts) -> list[dict[str, str]]:
        out = []
        for k in sorted(f):
            if k.startswith(prefix) and f[k]:
                value = _ratio(f.get("spend", 0), f[k], 0.01)
                if value is not None:
                    out.append({"action_type": k[len(prefix) :], "value": value})
        return out

    return build


def _roas(value_key: str, action_type: str) -> ListField:
    return lambda f: (
        _one(action_type, _ratio(f.get(value_key, 0), f.get("spend", 0))) if value_key in f else []
    )


LIST_FIELDS: dict[str, ListField] = {
    "actions": _actions(ACTION_PREFIX),
    "unique_actions": _actions(UNIQUE_ACTION_PREFIX),
    "action_values": _actions(VALUE_PREFIX, money=True),
    "cost_per_action_type": _cost_per(ACTION_PREFIX),
    "cost_per_unique_action_type": _cost_per(UNIQUE_ACTION_PREFIX),
    "outbound_clicks": lambda f: (
        _one("outbound_click", _count(f["outbound_clicks"])) if f.get("outbound_clicks") else []
    ),
    "unique_outbound_clicks": lambda f: (
        _one("outbound_click", _count(f["unique_outbound_clicks"]))
        if f.get("unique_outbound_clicks")
        else []
    ),
    "outbound_clicks_ctr": lambda f: _one(
        "outbound_click", _ratio(f.get("outbound_clicks", 0), f.get("impressions", 0), 100)
    ),
    "unique_outbound_clicks_ctr": lambda f: _one(
        "outbound_click", _ratio(f.get("unique_outbound_clicks", 0), f.get("reach", 0), 100)
    ),
    "cost_per_outbound_click": lambda f: _one(
        "outbound_click", _ratio(f.get("spend", 0), f.get("outbound_clicks", 0), 0.01)
    ),
    "cost_per_unique_outbound_click": lambda f: _one(
        "outbound_click", _ratio(f.get("spend", 0), f.get("unique_outbound_clicks", 0), 0.01)
    ),
    "website_ctr": lambda f: _one(
        "link_click", _ratio(f.get("a:link_click", 0), f.get("impressions", 0), 100)
    ),
    "video_play_actions": _video("video_play"),
    "video_p25_watched_actions": _video("video_p25"),
    "video_p50_watched_actions": _video("video_p50"),
    "video_p75_watched_actions": _video("video_p75"),
    "video_p95_watched_actions": _video("video_p95"),
    "video_p100_watched_actions": _video("video_p100"),
    "video_thruplay_watched_actions": _video("video_thruplay"),
    "video_15_sec_watched_actions": _video("video_15_sec"),
    "video_30_sec_watched_actions": _video("video_30_sec"),
    "video_continuous_2_sec_watched_actions": _video("video_continuous_2_sec"),
    "unique_video_continuous_2_sec_watched_actions": _video("unique_video_continuous_2_sec"),
    "unique_video_view_15_sec": _video("unique_video_view_15_sec"),
    "video_time_watched_actions": _video("video_watch_seconds"),
    "video_avg_time_watched_actions": lambda f: _one(
        "video_view",
        str(round(f["video_watch_seconds"] / f["video_play"])) if f.get("video_play") else None,
    ),
    "cost_per_thruplay": _video_cost("video_thruplay"),
    "cost_per_15_sec_video_view": _video_cost("video_15_sec"),
    "cost_per_2_sec_continuous_video_view": _video_cost("video_continuous_2_sec"),
    "purchase_roas": _roas("v:omni_purchase", "omni_purchase"),
    "website_purchase_roas": _roas(
        "v:offsite_conversion.fb_pixel_purchase", "offsite_conversion.fb_pixel_purchase"
    ),
}

# Attribution windows: the share of an action's default (7d_click + 1d_view) count that
# each window reports.
WINDOW_SHARES = {
    "1d_click": 0.7,
    "7d_click": 0.9,
    "28d_click": 1.0,
    "1d_view": 0.1,
    "7d_view": 0.14,
    "28d_view": 0.18,
    "1d_ev": 0.05,
    "dda": 0.95,
}
ATTRIBUTE_FIELDS = (
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
    "date_start",
    "date_stop",
    "created_time",
    "updated_time",
    "adset_start",
    "adset_end",
    "age_targeting",
    "gender_targeting",
    "quality_ranking",
    "engagement_rate_ranking",
    "conversion_rate_ranking",
    "labels",
)
RESULT_FIELDS = ("results", "cost_per_result")
VALID_FIELDS = frozenset(SCALAR_FIELDS) | frozenset(LIST_FIELDS) | frozenset(ATTRIBUTE_FIELDS)
VALID_FIELDS = VALID_FIELDS | frozenset(RESULT_FIELDS)
# Fields Meta documents that this account has no data for (no app, catalog, canvas,
# messaging-marketing or dynamic-creative ads): accepted, never returned.
EMPTY_FIELDS = frozenset(
    {
        "ad_click_actions",
        "ad_impression_actions",
        "adjusted_offline_purchase",
        "canvas_avg_view_percent",
        "canvas_avg_view_time",
        "catalog_segment_actions",
        "catalog_segment_value",
        "catalog_segment_value_mobile_purchase_roas",
        "catalog_segment_value_omni_purchase_roas",
        "catalog_segment_value_website_purchase_roas",
        "conversion_values",
        "conversions",
        "converted_product_quantity",
        "converted_product_value",
        "cost_per_ad_click",
        "cost_per_conversion",
        "cost_per_dda_countby_convs",
        "cost_per_one_thousand_ad_impression",
        "cost_per_unique_conversion",
        "dda_countby_convs",
        "dda_results",
        "instagram_upcoming_event_reminders_set",
        "instant_experience_clicks_to_open",
        "instant_experience_clicks_to_start",
        "instant_experience_outbound_clicks",
        "interactive_component_tap",
        "location",
        "marketing_messages_cost_per_delivered",
        "marketing_messages_cost_per_link_btn_click",
        "marketing_messages_spend",
        "marketing_messages_website_purchase_values",
        "mobile_app_purchase_roas",
        "onsite_conversion_messaging_detected_purchase_deduped",
        "place_page_name",
        "qualifying_question_qualify_answer_rate",
        "shops_assisted_purchases",
        "total_postbacks",
        "total_postbacks_detailed",
        "total_postbacks_detailed_v4",
        "unique_conversions",
        "video_play_curve_actions",
        "video_play_retention_0_to_15s_actions",
        "video_play_retention_20_to_60s_actions",
        "video_play_retention_graph_actions",
        "wish_bid",
    }
)


@dataclass
class InsightsQuery:
    node_id: str  # act_..., campaign, ad set or ad id
    fields: list[str]
    level: str
    since: date
    until: date
    time_increment: str  # "1".."90", "monthly", "all_days"
    breakdowns: list[str] = field(default_factory=list)
    filtering: list[dict[str, Any]] = field(default_factory=list)
    attribution_windows: list[str] = field(default_factory=list)


def _json_or_csv(raw: str | None) -> list[str]:
    if not raw:
        return []
    raw = raw.strip()
    if raw.startswith("["):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InsightsError(f"(#100) Invalid JSON: {raw}") from exc
        return [str(v) for v in value]
    return [part.strip() for part in raw.split(",") if part.strip()]


def invalid_field_message(name: str) -> str:
    return (
        f"(#100) {name} is not valid for fields param. please check "
        "https://developers.facebook.com/docs/marketing-api/reference/ads-insights/ "
        "for all valid values"
    )


def _node_level(node_id: str) -> str:
    if node_id == ACCOUNT.id:
        return "account"
    if node_id in CAMPAIGNS_BY_ID:
        return "campaign"
    if node_id in ADSETS_BY_ID:
        return "adset"
    return "ad"


def _preset_range(preset: str, today: date) -> tuple[date, date]:
    yesterday = today - timedelta(days=1)
    first_of_month = today.replace(day=1)
    presets = {
        "today": (today, today),
        "yesterday": (yesterday, yesterday),
        "last_3d": (today - timedelta(days=3), yesterday),
        "last_7d": (today - timedelta(days=7), yesterday),
        "last_14d": (today - timedelta(days=14), yesterday),
        "last_28d": (today - timedelta(days=28), yesterday),
        "last_30d": (today - timedelta(days=30), yesterday),
        "last_90d": (today - timedelta(days=90), yesterday),
        "this_month": (first_of_month, today),
        "last_month": (
            (first_of_month - timedelta(days=1)).replace(day=1),
            first_of_month - timedelta(days=1),
        ),
        "maximum": (today.replace(year=today.year - 3), today),
    }
    if preset not in presets:
        raise InsightsError(
            f"(#100) date_preset must be one of the following values: {', '.join(presets)}"
        )
    return presets[preset]


def parse_query(node_id: str, params: Mapping[str, str], today: date) -> InsightsQuery:
    fields = _json_or_csv(params.get("fields")) or ["impressions", "spend"]
    for name in fields:
        if name not in VALID_FIELDS and name not in EMPTY_FIELDS:
            raise InsightsError(invalid_field_message(name))
    node_level = _node_level(node_id)
    level = params.get("level") or node_level
    if level not in LEVELS:
        raise InsightsError(
            "(#100) level must be one of the following values: ad, adset, campaign, account"
        )
    if LEVELS.index(level) < LEVELS.index(node_level):
        raise InsightsError(f"(#100) level {level} is above the level of the queried object")
    if params.get("time_range"):
        try:
            time_range = json.loads(params["time_range"])
            since = date.fromisoformat(time_range["since"])
            until = date.fromisoformat(time_range["until"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InsightsError(
                "(#100) param time_range must be a JSON object with since and until dates"
            ) from exc
    else:
        since, until = _preset_range(params.get("date_preset") or "last_30d", today)
    if since > until:
        raise InsightsError("(#100) time_range: since must be on or before until")
    if since < today - timedelta(days=round(MAX_MONTHS_BACK * 30.44)):
        raise InsightsError(
            f"(#3018) The start date of the time range cannot be beyond {MAX_MONTHS_BACK} "
            "months from the current date",
            code=3018,
        )
    increment = params.get("time_increment") or "all_days"
    if increment not in ("monthly", "all_days") and not (
        increment.isdigit() and 1 <= int(increment) <= 90
    ):
        raise InsightsError(
            "(#100) time_increment must be an integer between 1 and 90, monthly or all_days"
        )
    breakdowns = _json_or_csv(params.get("breakdowns"))
    for i, name in enumerate(breakdowns):
        if name not in BREAKDOWN_KEYS:
            raise InsightsError(
                f"(#100) breakdowns[{i}] must be one of the following values: "
                + ", ".join(sorted(BREAKDOWN_KEYS))
            )
    try:
        group_for(breakdowns)
    except ValueError as exc:
        raise InsightsError(
            "(#100) Current combination of data breakdown columns "
            f"({', '.join(['action_type', *breakdowns])}) is invalid"
        ) from exc
    action_breakdowns = _json_or_csv(params.get("action_breakdowns")) or ["action_type"]
    if action_breakdowns != ["action_type"]:
        raise InsightsError(
            "(#100) action_breakdowns supported by this account's data: action_type"
        )
    filtering: list[dict[str, Any]] = []
    if params.get("filtering"):
        try:
            filtering = json.loads(params["filtering"])
            assert isinstance(filtering, list)
            for f in filtering:
                assert {"field", "operator"} <= set(f)
        except (ValueError, AssertionError) as exc:
            raise InsightsError(
                "(#100) filtering must be an array of {field, operator, value} objects"
            ) from exc
    windows = _json_or_csv(params.get("action_attribution_windows"))
    for window in windows:
        if window not in WINDOW_SHARES and window != "default":
            raise InsightsError(
                "(#100) action_attribution_windows must be one of: "
                + ", ".join([*WINDOW_SHARES, "default"])
            )
    return InsightsQuery(
        node_id, fields, level, since, until, increment, breakdowns, filtering, windows
    )


# --- filtering -----------------------------------------------------------------------

ENTITY_FILTER_FIELDS = {
    "campaign.id": "campaign_id",
    "adset.id": "adset_id",
    "ad.id": "id",
    "campaign.name": "campaign_name",
    "adset.name": "adset_name",
    "ad.name": "name",
}


def _matches(actual: str, operator: str, value: Any) -> bool:
    values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if operator == "EQUAL":
        return actual == values[0]
    if operator == "NOT_EQUAL":
        return actual != values[0]
    if operator == "IN":
        return actual in values
    if operator == "NOT_IN":
        return actual not in values
    if operator == "CONTAIN":
        return values[0].lower() in actual.lower()
    if operator == "NOT_CONTAIN":
        return values[0].lower() not in actual.lower()
    raise InsightsError(f"(#100) Filter operator {operator} is not supported for this field")


def _ad_value(ad_id: str, attr: str) -> str:
    ad = ADS_BY_ID[ad_id]
    if attr == "id":
        return ad.id
    if attr == "name":
        return ad.name
    if attr == "campaign_id":
        return ad.campaign_id
    if attr == "adset_id":
        return ad.adset_id
    if attr == "campaign_name":
        return CAMPAIGNS_BY_ID[ad.campaign_id].name
    return ADSETS_BY_ID[ad.adset_id].name


@dataclass
class Row:
    entity_id: str
    start: date
    stop: date
    breakdown: tuple[str, ...]
    cells: list[Cell]


def compute_rows(data: AdsData, query: InsightsQuery) -> list[Row]:
    ad_ids = data.ads_of(query.node_id)
    cell_filters: list[tuple[str, str, Any]] = []
    action_filters: list[tuple[str, Any]] = []
    for f in query.filtering:
        name, operator, value = f["field"], f["operator"], f.get("value")
        if name in ENTITY_FILTER_FIELDS:
            attr = ENTITY_FILTER_FIELDS[name]
            ad_ids = [a for a in ad_ids if _matches(_ad_value(a, attr), operator, value)]
        elif name in BREAKDOWN_KEYS:
            cell_filters.append((name, operator, value))
        elif name == "action_type":
            action_filters.append((operator, value))
        else:
            raise InsightsError(f"(#100) Filtering field {name} is invalid")
    # Filters on breakdown fields slice the cells of their group, breakdown asked or not.
    try:
        group = group_for(query.breakdowns + [name for name, _, _ in cell_filters])
    except ValueError as exc:
        raise InsightsError(
            "(#100) Filtering on a breakdown of another family than the requested "
            "breakdowns is not supported"
        ) from exc

    def keep(cell: Cell) -> bool:
        return all(_matches(cell.values.get(n, ""), o, v) for n, o, v in cell_filters)

    cells = data.slice_cells(
        query.since, query.until, ad_ids, group=group, where=keep if cell_filters else None
    )
    if action_filters:
        # Cells are shared with the data's cache: build filtered copies.
        def kept(key: str) -> bool:
            return not key.startswith(("a:", "v:", "ua:")) or all(
                _matches(key.split(":", 1)[1], o, v) for o, v in action_filters
            )

        cells = [
            Cell(
                c.ad_id,
                c.day,
                c.values,
                c.keys,
                tuple(v if kept(k) else 0 for k, v in zip(c.keys, c.vector, strict=True)),
                c.uniques,
                c.offsite,
            )
            for c in cells
        ]
    grouped: dict[tuple[str, date, tuple[str, ...]], list[Cell]] = {}
    buckets: dict[date, date] = {}
    for cell in cells:
        entity = _entity_at(cell.ad_id, query.level)
        bucket = buckets.get(cell.day)
        if bucket is None:
            bucket = buckets[cell.day] = _bucket_start(cell.day, query)
        key = (entity, bucket, tuple(cell.values.get(b, "") for b in query.breakdowns))
        grouped.setdefault(key, []).append(cell)
    rows = []
    for (entity, bucket, values), row_cells in sorted(grouped.items()):
        rows.append(Row(entity, bucket, _bucket_stop(bucket, query), values, row_cells))
    return rows


def _entity_at(ad_id: str, level: str) -> str:
    ad = ADS_BY_ID[ad_id]
    return {"account": ACCOUNT.id, "campaign": ad.campaign_id, "adset": ad.adset_id}.get(
        level, ad.id
    )


def _bucket_start(day: date, query: InsightsQuery) -> date:
    if query.time_increment == "all_days":
        return query.since
    if query.time_increment == "monthly":
        return max(query.since, day.replace(day=1))
    n = int(query.time_increment)
    return query.since + timedelta(days=((day - query.since).days // n) * n)


def _bucket_stop(start: date, query: InsightsQuery) -> date:
    if query.time_increment == "all_days":
        return query.until
    if query.time_increment == "monthly":
        next_month = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return min(query.until, next_month - timedelta(days=1))
    return min(query.until, start + timedelta(days=int(query.time_increment) - 1))


def estimated_cells(data: AdsData, query: InsightsQuery) -> int:
    """How heavy a query is (ads x days x breakdown cells), to refuse large sync queries."""
    days = (query.until - query.since).days + 1
    ads = len(data.ads_of(query.node_id))
    group = group_for(query.breakdowns)
    per_day = len(group.cells(ADS[0])) if group else 1
    return days * ads * per_day


# --- formatting ----------------------------------------------------------------------


def _attributes(row: Row, level: str) -> dict[str, str | None]:
    first_ad = ADS_BY_ID[row.cells[0].ad_id]
    campaign = CAMPAIGNS_BY_ID[first_ad.campaign_id]
    adset = ADSETS_BY_ID[first_ad.adset_id]
    depth = LEVELS.index(level)
    values: dict[str, str | None] = {
        "account_id": ACCOUNT.account_id,
        "account_name": ACCOUNT.name,
        "account_currency": ACCOUNT.currency,
        "date_start": row.start.isoformat(),
        "date_stop": row.stop.isoformat(),
        "buying_type": "AUCTION",
        "attribution_setting": "7d_click_1d_view",
        "created_time": None,
        "updated_time": None,
    }
    if depth >= 1:
        values.update(
            campaign_id=campaign.id,
            campaign_name=campaign.name,
            objective=campaign.objective,
            created_time=campaign.start.isoformat(),
            updated_time=campaign.start.isoformat(),
        )
    if depth >= 2:
        values.update(
            adset_id=adset.id,
            adset_name=adset.name,
            optimization_goal=adset.optimization_goal,
            adset_start=f"{adset.start.isoformat()}T00:00:00-0300",
            adset_end=f"{adset.end.isoformat()}T23:59:59-0300" if adset.end else None,
            age_targeting=f"{adset.age_min}-{adset.age_max}",
            gender_targeting={(): "All", (1,): "Male", (2,): "Female"}.get(adset.genders, "All"),
            created_time=adset.start.isoformat(),
        )
    if depth >= 3:
        values.update(
            ad_id=first_ad.id,
            ad_name=first_ad.name,
            quality_ranking=first_ad.quality_ranking,
            engagement_rate_ranking=first_ad.engagement_rate_ranking,
            conversion_rate_ranking=first_ad.conversion_rate_ranking,
            labels=",".join(first_ad.labels) or None,
        )
    return values


def _results(cells: list[Cell], with_cost: bool) -> list[dict[str, Any]]:
    by_indicator: dict[str, list[int]] = {}
    for cell in cells:
        action = ADSETS_BY_ID[ADS_BY_ID[cell.ad_id].adset_id].result_action
        count_spend = by_indicator.setdefault(f"actions:{action}", [0, 0])
        count_spend[0] += action_count(cell, action)
        count_spend[1] += cell.get("spend")
    out = []
    for indicator, (count, spend) in sorted(by_indicator.items()):
        if with_cost:
            value = _ratio(spend, count, 0.01)
            if value is None:
                continue
        else:
            value = str(count)
        out.append({"indicator": indicator, "values": [{"value": value}]})
    return out


def format_row(row: Row, query: InsightsQuery) -> dict[str, Any]:
    facts = AdsData.totals(row.cells)
    out: dict[str, Any] = {}
    attributes: dict[str, str | None] | None = None
    for name in query.fields:
        if name in SCALAR_FIELDS:
            value = SCALAR_FIELDS[name](facts)
            if value is not None:
                out[name] = value
        elif name in LIST_FIELDS:
            items = LIST_FIELDS[name](facts)
            if items and query.attribution_windows and name in ("actions", "action_values"):
                for item in items:
                    for window in query.attribution_windows:
                        if window != "default":
                            share = WINDOW_SHARES[window]
                            number = float(item["value"]) * share
                            item[window] = (
                                f"{number:.2f}" if name == "action_values" else str(round(number))
                            )
            if items:
                out[name] = items
        elif name in RESULT_FIELDS:
            out[name] = _results(row.cells, with_cost=name == "cost_per_result")
        elif name in ATTRIBUTE_FIELDS:
            if attributes is None:
                attributes = _attributes(row, query.level)
            if attributes.get(name) is not None:
                out[name] = attributes[name]
    for key, value in zip(query.breakdowns, row.breakdown, strict=True):
        out[key] = value
    out["date_start"] = row.start.isoformat()
    out["date_stop"] = row.stop.isoformat()
    return out
