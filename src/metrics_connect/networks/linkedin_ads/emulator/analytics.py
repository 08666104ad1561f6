"""adAnalytics (finders `analytics` and `statistics`) over the emulator's data.

What the documentation says and the emulator enforces: one pivot (`analytics`) or up to
three (`statistics`); `timeGranularity` DAILY, MONTHLY, YEARLY or ALL; a `dateRange` of
inclusive UTC days; at least one facet (`accounts`, `campaignGroups`, `campaigns`,
`creatives`); at most 20 metrics in `fields` (impressions and clicks without it); no
paging and at most 15,000 elements a response; costs as strings in the account's
currency; `approximateMemberReach` only for the account, campaign group and campaign
pivots, over at most 92 days; rows without activity are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from metrics_connect.networks.linkedin_ads.emulator.data import MONEY, AdsData, Creative
from metrics_connect.sandbox.kit.periods import Unit, buckets
from metrics_connect.sandbox.kit.restli import bad_request, day_of

MAX_METRICS = 20
MAX_ELEMENTS = 15_000
MAX_REACH_DAYS = 92
NOT_METRICS = {"dateRange", "pivotValues", "pivot", "pivotValue"}
# timeGranularity by its bucket unit.
GRANULARITIES: dict[str, Unit] = {
    "DAILY": 1,
    "MONTHLY": "month",
    "YEARLY": "year",
    "ALL": "all",
}
# An entity pivot's value for a creative (of the account).
ENTITY_PIVOTS: dict[str, Callable[[int, Creative], str]] = {
    "ACCOUNT": lambda account, _: f"urn:li:sponsoredAccount:{account}",
    "CAMPAIGN_GROUP": lambda _, c: f"urn:li:sponsoredCampaignGroup:{c.campaign.group}",
    "CAMPAIGN": lambda _, c: f"urn:li:sponsoredCampaign:{c.campaign.id}",
    "CREATIVE": lambda _, c: f"urn:li:sponsoredCreative:{c.id}",
}
REACH_PIVOTS = {"ACCOUNT", "CAMPAIGN_GROUP", "CAMPAIGN"}
FACETS = {
    "accounts": "urn:li:sponsoredAccount:",
    "campaignGroups": "urn:li:sponsoredCampaignGroup:",
    "campaigns": "urn:li:sponsoredCampaign:",
    "creatives": "urn:li:sponsoredCreative:",
}


def rest_date(day: date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}


def selected(data: AdsData, q: dict[str, Any]) -> list[Creative]:
    """The creatives the facets name (every facet given must hold)."""
    given = {name: q[name] for name in FACETS if name in q}
    if not given:
        raise bad_request("At least one of accounts, campaignGroups, campaigns or creatives")
    wanted: dict[str, set[str]] = {}
    for name, values in given.items():
        if not isinstance(values, list) or not all(str(v).startswith(FACETS[name]) for v in values):
            raise bad_request(f"Invalid value for {name}: expected List of {FACETS[name]}...")
        wanted[name] = {str(v).removeprefix(FACETS[name]) for v in values}
    types = set(q["campaignType"]) if isinstance(q.get("campaignType"), list) else None
    out = []
    for creative in data.creatives.values():
        campaign = creative.campaign
        keys = {
            "accounts": str(data.account_id),
            "campaignGroups": str(campaign.group),
            "campaigns": str(campaign.id),
            "creatives": str(creative.id),
        }
        if all(keys[name] in ids for name, ids in wanted.items()) and (
            types is None or campaign.type in types
        ):
            out.append(creative)
    return out


def ad_analytics(data: AdsData, q: dict[str, Any], now: datetime) -> dict[str, Any]:
    finder = q.get("q")
    if finder == "analytics":
        pivots = [str(q.get("pivot") or "")]
    elif finder == "statistics":
        pivots = [str(p) for p in q.get("pivots") or []]
        if not 1 <= len(pivots) <= 3:
            raise bad_request("pivots must list one to three pivots")
    else:
        raise bad_request("q must be analytics or statistics")
    known = set(ENTITY_PIVOTS) | set(data.demographics)
    if any(p not in known for p in pivots):
        raise bad_request(f"Unsupported pivot: {','.join(pivots)}")
    granularity = str(q.get("timeGranularity") or "")
    if granularity not in GRANULARITIES:
        raise bad_request("timeGranularity must be DAILY, MONTHLY, YEARLY or ALL")
    span = q.get("dateRange")
    if not isinstance(span, dict) or "start" not in span:
        raise bad_request("dateRange with a start is required")
    first = day_of(span["start"])
    last = day_of(span["end"]) if "end" in span else now.date()
    if last < first:
        raise bad_request("dateRange ends before it starts")
    fields = [
        f
        for f in str(q.get("fields") or "pivotValues,dateRange,impressions,clicks").split(",")
        if f
    ]
    metrics = [f for f in fields if f not in NOT_METRICS]
    if len(metrics) > MAX_METRICS:
        raise bad_request(f"At most {MAX_METRICS} metrics may be requested, {len(metrics)} were")
    unknown = set(metrics) - set(data.metric_names())
    if unknown:
        raise bad_request(f"Unknown fields: {', '.join(sorted(unknown))}")
    demographic = [p for p in pivots if p not in ENTITY_PIVOTS]
    if "approximateMemberReach" in metrics:
        if demographic or any(p not in REACH_PIVOTS for p in pivots):
            raise bad_request("approximateMemberReach is not available with these pivots")
        if (last - first).days + 1 > MAX_REACH_DAYS:
            raise bad_request(f"approximateMemberReach spans at most {MAX_REACH_DAYS} days")
    creatives = selected(data, q)
    last = min(last, now.date())  # nothing is delivered after today
    elements: list[dict[str, Any]] = []
    for start, end in buckets(first, last, GRANULARITIES[granularity]) if first <= last else []:
        groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for creative in creatives:
            key = tuple(
                ENTITY_PIVOTS[p](data.account_id, creative) for p in pivots if p in ENTITY_PIVOTS
            )
            groups[key].append(creative.id)
        for key, ids in sorted(groups.items()):
            totals = data.totals(ids, start, end)
            if not totals.get("impressions") and not totals.get("sends"):
                continue
            if "approximateMemberReach" in metrics:
                totals["approximateMemberReach"] = data.reach(ids, start, end)
            split: list[tuple[tuple[str, ...], dict[str, float]]] = [((), totals)]
            for pivot in demographic:
                split = [
                    ((*values, value), part)
                    for values, whole in split
                    for value, part in data.demographic_split(pivot, whole, (key, start)).items()
                ]
            for values, figures in split:
                if not any(figures.get(m) for m in ("impressions", "sends", "clicks")):
                    continue
                elements.append(
                    element(pivots, [*key, *values], fields, metrics, figures, start, end)
                )
    if len(elements) > MAX_ELEMENTS:
        raise bad_request(
            f"The response would hold {len(elements)} elements, over the {MAX_ELEMENTS} limit"
        )
    return {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements}


def element(
    pivots: list[str],
    values: list[str],
    fields: list[str],
    metrics: list[str],
    figures: dict[str, float],
    start: date,
    end: date,
) -> dict[str, Any]:
    """One element, ordered as the pivots were asked (entity values, then demographics)."""
    entity = [p for p in pivots if p in ENTITY_PIVOTS]
    by_pivot = dict(
        zip(entity + [p for p in pivots if p not in ENTITY_PIVOTS], values, strict=True)
    )
    out: dict[str, Any] = {}
    if "pivotValues" in fields:
        out["pivotValues"] = [by_pivot[p] for p in pivots]
    if "dateRange" in fields:
        out["dateRange"] = {"start": rest_date(start), "end": rest_date(end)}
    for name in metrics:
        value = figures.get(name, 0)
        out[name] = f"{value:.2f}" if name in MONEY else int(value)
    return out
