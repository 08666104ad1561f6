"""The emulated customers' advertising, from data.yaml.

A customer's day is a list of cells, one per (ad group, device): impressions, clicks,
cost in micros, fractional conversions and their value... drawn from (campaign, ad
group, day) alone, so a day never depends on which other days were asked. The views
below an ad group (ads, keywords, search terms, placements, videos, genders, ages,
locations, conversion actions) split a cell by fixed weights, integers exactly.
Conversions of recent days are restated: a day shows a growing share of its final
conversions until `restatement.settle_days` whole days have passed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from itertools import accumulate
from typing import Any

from metrics_connect.sandbox.kit.calendar import LocalDays
from metrics_connect.sandbox.kit.seeded import DailySeries, draws
from metrics_connect.sandbox.kit.spec import load_spec

SPEC = "data.yaml"
Entity = dict[str, Any]
# Fractional metrics (conversions and their values); every other metric is an integer.
FRACTIONAL = frozenset(
    {"conversions", "conversions_value", "all_conversions", "all_conversions_value"}
)


def spec(key: str) -> Any:
    return load_spec(__package__, SPEC, key, Any)


VERSIONS: dict[str, dict[str, date]] = load_spec(
    __package__, SPEC, "versions", dict[str, dict[str, date]]
)
RETIRED: dict[str, date] = load_spec(__package__, SPEC, "retired", dict[str, date])
ACCESSIBLE: tuple[str, ...] = tuple(spec("accessible"))
CUSTOMERS: dict[str, Entity] = {
    cid: {"id": cid, "resource_name": f"customers/{cid}", "clients": [], **c}
    for cid, c in spec("customers").items()
}
RESTATEMENT: dict[str, float] = spec("restatement")
DEVICES: dict[str, float] = spec("devices")
GEO_TARGETS: dict[int, list[str]] = spec("geo_targets")
RATES: dict[str, dict[str, float]] = spec("channel_rates")
ANALYTICS: dict[str, float] = spec("analytics")
URL_SUFFIX: str = spec("url_suffix")
UTM_MEDIUM: dict[str, str] = spec("utm_medium")
DEFAULT_LOCATIONS: dict[str, list[list[Any]]] = spec("default_locations")
LANGUAGES: dict[str, int] = spec("languages")
QUALITY: dict[str, Any] = spec("quality")
OPTIMIZATION: dict[str, Any] = spec("optimization")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


ADS: dict[str, list[list[Any]]] = spec("ads")
SUFFIXES: list[str] = spec("search_term_suffixes")
LANDING: str = spec("landing")


def geo(target_id: int) -> Entity:
    name, kind, country = GEO_TARGETS[target_id]
    return {
        "id": str(target_id),
        "resource_name": f"geoTargetConstants/{target_id}",
        "name": name,
        "canonical_name": name if kind == "Country" else f"{name},{country}",
        "country_code": country,
        "target_type": kind,
        "status": "ENABLED",
    }


PLACEMENT_TYPES: dict[str, str] = spec("placement_types")  # URL prefix -> type
GENDERS = [{"value": v, "weight": w} for v, w in spec("genders").items()]
AGES = [{"value": v, "weight": w} for v, w in spec("age_ranges").items()]


@dataclass
class AdGroup:
    entity: Entity
    campaign: Entity
    weight: float
    # Views below the ad group: split name -> [(entity, weight)].
    splits: dict[str, list[tuple[Entity, float]]] = field(default_factory=dict)


def _campaign(raw: dict[str, Any]) -> tuple[Entity, list[AdGroup]]:
    cid, kind = raw["customer"], raw["type"]
    camp: Entity = {
        "id": str(raw["id"]),
        "resource_name": f"customers/{cid}/campaigns/{raw['id']}",
        "name": raw["name"],
        "status": raw.get("status", "ENABLED"),
        "advertising_channel_type": kind,
        "raw": raw,
    }
    groups = []
    for index, (name, weight) in enumerate(raw["ad_groups"], start=1):
        gid = raw["id"] * 100 + index
        group: Entity = {
            "id": str(gid),
            "resource_name": f"customers/{cid}/adGroups/{gid}",
            "name": name,
            "status": "ENABLED",
        }
        ag = AdGroup(group, camp, float(weight))
        ads = [
            {
                "id": str(gid * 10 + i),
                "resource_name": f"customers/{cid}/adGroupAds/{gid}~{gid * 10 + i}",
                "name": f"{name} - {suffix}",
                "type": ad_type,
                "status": "ENABLED",
                "final_urls": [f"{LANDING}/{kind.lower()}/{gid}"],
                "final_url_suffix": URL_SUFFIX.format(
                    medium=UTM_MEDIUM[kind],
                    campaign=_slug(raw["name"]),
                    group=_slug(name),
                    ad=_slug(suffix),
                ),
            }
            for i, (suffix, ad_type, _) in enumerate(ADS[kind], start=1)
        ]
        ag.splits["ad"] = [(ad, w) for ad, (*_, w) in zip(ads, ADS[kind], strict=True)]
        # Each ad group bids on every n-th keyword of its campaign (n: its ad groups).
        own = raw.get("keywords", [])[index - 1 :: len(raw["ad_groups"])] or raw.get("keywords", [])
        keywords = [
            {
                "id": str(gid * 1000 + i),
                "resource_name": f"customers/{cid}/adGroupCriteria/{gid}~{gid * 1000 + i}",
                "text": text,
                "match_type": match,
            }
            for i, (text, match) in enumerate(own, start=1)
        ]
        ag.splits["keyword"] = [(k, 1.0 / i) for i, k in enumerate(keywords, start=1)]
        ag.splits["search_term"] = [
            ({"text": k["text"] + s, "status": "NONE"}, w / (j + 1))
            for k, w in ag.splits["keyword"]
            for j, s in enumerate(SUFFIXES)
        ]
        ag.splits["placement"] = [
            (
                {
                    "name": pname,
                    "group_placement_target_url": url,
                    "target_url": url,
                    "placement_type": next(
                        (
                            kind
                            for prefix, kind in PLACEMENT_TYPES.items()
                            if url.startswith(prefix)
                        ),
                        "WEBSITE",
                    ),
                },
                1.0 / i,
            )
            for i, (pname, url) in enumerate(raw.get("placements", []), start=1)
        ]
        ag.splits["video"] = [
            ({"id": vid, "title": title, "duration_millis": str(int(secs) * 1000)}, 1.0 / i)
            for i, (vid, title, secs) in enumerate(raw.get("videos", []), start=1)
        ]
        groups.append(ag)
    return camp, groups


AD_GROUPS: dict[str, list[AdGroup]] = {cid: [] for cid in CUSTOMERS}
CAMPAIGNS: dict[str, list[Entity]] = {cid: [] for cid in CUSTOMERS}
for _raw in spec("campaigns"):
    _camp, _groups = _campaign(_raw)
    CAMPAIGNS[_raw["customer"]].append(_camp)
    AD_GROUPS[_raw["customer"]] += _groups
COUNTRY = {"BRL": "BR", "EUR": "DE"}
LOCATIONS: dict[str, list[tuple[Entity, float]]] = {
    country: [
        ({k: geo(v)["resource_name"] for k, v in loc.items() if k != "weight"}, loc["weight"])
        for loc in entries
    ]
    for country, entries in spec("locations").items()
}
CONVERSION_ACTIONS = [
    {"id": str(700 + i), "name": n, "category": c, "share": s}
    for i, (n, c, s) in enumerate(spec("conversion_actions"), start=1)
]


def client(cid: str, level: int) -> Entity:
    """A customer as a customer_client row of a manager's hierarchy."""
    c = CUSTOMERS[cid]
    return {
        "client_customer": c["resource_name"],
        "level": str(level),
        "hidden": False,
        "status": "ENABLED",
        **{k: c[k] for k in ("id", "name", "currency", "time_zone", "manager")},
    }


def criteria(cid: str) -> list[Entity]:
    """The campaigns' criteria (campaign_criterion rows): locations, then the language."""
    currency = CUSTOMERS[cid]["currency"]
    out = []
    for camp in CAMPAIGNS[cid]:
        raw, prefix = camp["raw"], f"customers/{cid}/campaignCriteria/{camp['id']}"
        located = [
            ("LOCATION", target, negative, {"geo_target_constant": f"geoTargetConstants/{target}"})
            for target, negative in raw.get("locations") or DEFAULT_LOCATIONS[currency]
        ]
        language = LANGUAGES[currency]
        spoken = (
            "LANGUAGE",
            language,
            False,
            {"language_constant": f"languageConstants/{language}"},
        )
        for kind, criterion, negative, target in [*located, spoken]:
            out.append(
                {
                    "customer": CUSTOMERS[cid],
                    "campaign": camp,
                    "criterion": {
                        "resource_name": f"{prefix}~{criterion}",
                        "id": str(criterion),
                        "type": kind,
                        "status": "ENABLED",
                        "negative": negative,
                        **target,
                    },
                }
            )
    return out


def quality(keyword: Entity, day: date) -> dict[str, Any]:
    """A keyword's historical quality on a day: its score (int64, a JSON string) and the
    three components' buckets; nothing for a keyword with too little traffic."""
    if keyword["text"] in QUALITY["unscored"]:
        return {}
    level = draws("google_ads", "quality", keyword["id"]).randint(QUALITY["low"], QUALITY["high"])
    week = draws("google_ads", "quality", keyword["id"], *day.isocalendar()[:2])
    score = min(10, max(1, level + week.choice((-1, 0, 0, 0, 1))))
    buckets = QUALITY["buckets"]
    out: dict[str, Any] = {"historical_quality_score": str(score)}
    for name in QUALITY["components"]:
        place = round((score - 1) / 9 * (len(buckets) - 1) + week.uniform(-0.6, 0.6))
        out[name] = buckets[min(len(buckets) - 1, max(0, place))]
    return out


def optimization(cid: str, campaign: Entity | None, today: date) -> dict[str, Any]:
    """The optimization score's uplift and page of the customer or a campaign, today."""
    if campaign is not None and campaign["status"] != "ENABLED":
        return {"optimization_score_uplift": 0.0}
    owner = campaign["id"] if campaign else cid
    low, high = OPTIMIZATION["uplift"]
    url = OPTIMIZATION["url"].format(customer=cid)
    return {
        "optimization_score_uplift": round(
            draws("google_ads", "uplift", owner, today).uniform(low, high), 4
        ),
        "optimization_score_url": url + (f"&campaignId={campaign['id']}" if campaign else ""),
    }


def conversion_share(day: date, today: date) -> float:
    """The share of a day's final conversions reported by `today` (attribution)."""
    age = (today - day).days
    settle, first = RESTATEMENT["settle_days"], RESTATEMENT["first_share"]
    return 1.0 if age >= settle else first + (1 - first) * max(age, 0) / settle


@lru_cache(maxsize=65536)
def _group_day(cid: str, index: int, day: date) -> dict[str, float]:
    """An ad group's whole day, final figures (before device split and restatement)."""
    ag = AD_GROUPS[cid][index]
    raw = ag.campaign["raw"]
    if day < raw["start"] or (raw.get("end") and day > raw["end"]):
        return {}
    share = ag.weight / sum(g.weight for g in AD_GROUPS[cid] if g.campaign is ag.campaign)
    key = ("google_ads", ag.entity["id"])
    series = DailySeries(
        start=raw["start"],
        level=raw["level"] * share,
        trend_per_day=raw["trend"] * share,
        weekly=(1.05, 1.08, 1.06, 1.04, 0.98, 0.88, 0.91),
        yearly_amplitude=0.08,
        noise_low=0.85,
        noise_high=1.15,
        key=key,
    )
    impressions = series.value(day)
    if impressions <= 0:
        return {}
    rate = RATES[ag.campaign["advertising_channel_type"]]

    rng = draws(*key, day)  # one draw per ad group and day: the day's noise, in order

    def noisy(name: str, value: float) -> float:
        return value * rng.uniform(0.8, 1.2)

    clicks = round(noisy("ctr", impressions * rate["ctr"]))
    views = round(noisy("views", impressions * rate.get("views", 0.0)))
    engagements = round(noisy("engage", impressions * rate.get("engage", 0.0)))
    # Cost is charged per click, or per view for video: whole cents, in micros.
    paid = views if views else clicks
    cost = round(noisy("cpc", paid * rate["cpc"] * (0.35 if views else 1.0)), 2)
    interactions = clicks + views + engagements
    conversions = round(noisy("conv", interactions * rate["conv"]), 2)
    top = round(impressions * rate.get("top", 0.0) * rng.uniform(0.9, 1.1))
    phone_impressions = round(impressions * rate.get("phone", 0.0))
    day_values = {
        "impressions": impressions,
        "clicks": clicks,
        "cost_micros": round(cost * 100) * 10_000,
        "interactions": interactions,
        "engagements": engagements,
        "video_trueview_views": views,
        "conversions": conversions,
        "conversions_value": round(noisy("value", conversions * rate["value"]), 2),
        "all_conversions": round(conversions * 1.27, 2),
        "all_conversions_value": round(noisy("all_value", conversions * rate["value"] * 1.2), 2),
        "view_through_conversions": round(views * 0.004 + engagements * 0.01),
        "top_impressions": top,
        "absolute_top_impressions": round(
            top * rate.get("abs_top", 0.0) / max(rate.get("top", 1), 1e-9)
        ),
        "phone_impressions": phone_impressions,
        "phone_calls": round(noisy("ptr", phone_impressions * rate.get("ptr", 0.0))),
        "active_view_measurable_impressions": round(impressions * 0.81),
        "active_view_impressions": round(impressions * rng.uniform(0.55, 0.7)),
        "active_view_measurable_cost_micros": round(cost * 81) * 10_000,
        "invalid_clicks": round(clicks * rng.uniform(0.02, 0.06)),
    }
    parts = _eligible(day_values, rate, rng.uniform(0.85, 1.15))
    parts |= _hidden_parts(day_values, rate, rng.uniform(0.9, 1.1))
    return day_values | parts | _targets(raw.get("targets", {}), day, impressions)


def _targets(targets: dict[str, list[Any]], day: date, impressions: float) -> dict[str, float]:
    """The day's bidding target (the last set on or before it), weighted by impressions."""
    out = {}
    for kind, changes in targets.items():
        target = [value for since, value in changes if since <= day][-1]
        if kind == "cpa":
            out["target_cpa_impressions"] = impressions
            out["target_cpa_micros_impressions"] = target * 1_000_000 * impressions
        else:
            out["target_roas_base_impressions"] = impressions
            out["target_roas_impressions"] = target * impressions
    return out


def _hidden_parts(values: dict[str, float], rate: Any, noise: float) -> dict[str, float]:
    """The parts of the rates the API answers without them: quartile views of video,
    clicks on viewable impressions, the peers' clicks on the same display sites."""
    impressions = values["impressions"]
    viewable = values["active_view_impressions"] / impressions
    out = {"active_view_clicks": min(values["clicks"], values["clicks"] * viewable * 1.3)}
    if "quartiles" in rate:
        out["video_impressions"] = impressions
        for quartile, share in zip((25, 50, 75, 100), rate["quartiles"], strict=True):
            out[f"video_quartile_p{quartile}_views"] = impressions * min(1.0, share * noise)
    if "daily_frequency" in rate:
        out["reach_impressions"] = impressions
        out["user_days"] = impressions / (rate["daily_frequency"] * noise)
    sessions = values["clicks"] * ANALYTICS["sessions"]
    out["ga_sessions"] = sessions
    for part in ("page_views", "seconds", "bounces"):
        out[f"ga_{part}"] = sessions * ANALYTICS[part] * noise
    out["ga_new_sessions"] = sessions * min(1.0, ANALYTICS["new"] * noise)
    if "peer_ctr" in rate:
        out["content_clicks"] = values["clicks"]
        out["content_peer_clicks"] = impressions * rate["peer_ctr"] * noise
    return out


def _eligible(values: dict[str, float], rate: dict[str, float], noise: float) -> dict[str, float]:
    """The impressions (and clicks) the ad group was eligible for, and those it lost to
    budget or rank: the parts of the impression shares (never shown by the API)."""
    network = "search" if "search_is" in rate else "content" if "content_is" in rate else ""
    if not network:
        return {}
    impressions = values["impressions"]
    eligible = impressions / min(0.97, rate[f"{network}_is"] * noise)
    out = {f"{network}_eligible_impressions": eligible, f"{network}_impressions": impressions}
    for place, shown in (
        ("", impressions),
        ("_top", values["top_impressions"]),
        ("_absolute_top", values["absolute_top_impressions"]),
    ):
        if network == "content" and place:
            continue
        lost = eligible - shown
        out[f"{network}_budget_lost{place}_impressions"] = lost * rate["budget_lost"]
        out[f"{network}_rank_lost{place}_impressions"] = lost * (1 - rate["budget_lost"])
    if network == "search":
        out["search_clicks"] = values["clicks"]
        out["search_exact_match_eligible_impressions"] = (
            impressions + (eligible - impressions) * 0.55
        )
        out["search_eligible_clicks"] = (
            values["clicks"] + (eligible - impressions) * rate["ctr"] * 0.7
        )
    return out


def split(values: dict[str, float], weights: list[float]) -> list[dict[str, float]]:
    """A cell's values split by weights: integers exactly (cumulative bounds, the last
    part takes the rest), fractions to the cent."""
    if not weights:
        return []
    total = sum(weights) or 1.0
    shares = [w / total for w in weights]
    cumulative = list(accumulate(shares))
    parts: list[dict[str, float]] = [{} for _ in weights]
    for name, value in values.items():
        if name in FRACTIONAL:
            for part, share in zip(parts, shares, strict=True):
                part[name] = round(value * share, 2)
            continue
        previous = 0
        for part, bound in zip(parts, cumulative, strict=True):
            upper = int(value * bound + 1e-9)
            part[name] = float(upper - previous)
            previous = upper
        parts[-1][name] += value - previous
    return parts


@dataclass(frozen=True)
class Cell:
    entities: dict[str, Entity]
    values: dict[str, float]


def cells(
    cid: str,
    day: date,
    now: datetime,
    split_by: str | None,
    by_device: bool = True,
    whole: bool = False,
) -> Iterator[Cell]:
    """A customer's cells of one day (its own time zone) by ad group (or `whole`: the
    customer's sum), by device when asked, and split by a view (None: not split)."""
    days = LocalDays(CUSTOMERS[cid]["time_zone"])
    elapsed = days.elapsed_share(day, now)
    if elapsed <= 0:
        return
    restated = conversion_share(day, days.day_of(now))
    if whole:
        yield from _customer_cells(cid, day, restated, min(elapsed, 1.0), split_by, by_device)
        return
    for index in range(len(AD_GROUPS[cid])):
        yield from _group_cells(cid, index, day, restated, min(elapsed, 1.0), split_by, by_device)


@lru_cache(maxsize=4096)
def _customer_cells(
    cid: str, day: date, restated: float, elapsed: float, split_by: str | None, by_device: bool
) -> tuple[Cell, ...]:
    """The customer's day split once (resource customer: no ad group to tell apart)."""
    total: dict[str, float] = {}
    for index in range(len(AD_GROUPS[cid])):
        for cell in _group_cells(cid, index, day, restated, elapsed, None, False):
            for name, value in cell.values.items():
                if split_by != "conversion" or name in FRACTIONAL:
                    total[name] = total.get(name, 0.0) + value
    if not total:
        return ()
    base = {"customer": CUSTOMERS[cid], "date": {"value": day.isoformat()}}
    return _split_cells(cid, None, base, total, split_by, by_device)


@lru_cache(maxsize=16384)
def _group_cells(
    cid: str,
    index: int,
    day: date,
    restated: float,
    elapsed: float,
    split_by: str | None,
    by_device: bool,
) -> tuple[Cell, ...]:
    final = _group_day(cid, index, day)
    if not final:
        return ()
    ag = AD_GROUPS[cid][index]
    # Today so far: its elapsed share of the day's figures; conversions as restated.
    shown = {
        k: round(v * restated * elapsed, 2) if k in FRACTIONAL else round(v * elapsed)
        for k, v in final.items()
        if split_by != "conversion" or k in FRACTIONAL
    }
    if "cost_micros" in shown:
        shown["cost_micros"] = round(shown["cost_micros"], -4)
    base = {
        "customer": CUSTOMERS[cid],
        "campaign": ag.campaign,
        "ad_group": ag.entity,
        "date": {"value": day.isoformat()},
    }
    return _split_cells(cid, ag, base, shown, split_by, by_device)


def _split_cells(
    cid: str,
    ag: AdGroup | None,
    base: dict[str, Entity],
    values: dict[str, float],
    split_by: str | None,
    by_device: bool,
) -> tuple[Cell, ...]:
    """Values split by device (when asked) times the view's options, as cells."""
    devices = [({"device": {"value": d}}, w) for d, w in DEVICES.items()]
    views = [({split_by: e}, w) for e, w in _split_options(cid, ag, split_by)] if split_by else []
    options = [
        ({**d, **v}, dw * vw)
        for d, dw in (devices if by_device else [({}, 1.0)])
        for v, vw in (views if split_by else [({}, 1.0)])
    ]
    parts = split(values, [w for _, w in options]) if len(options) != 1 else [values]
    return tuple(
        Cell({**base, **entities}, part)
        for (entities, _), part in zip(options, parts, strict=True)
        if any(part.values())
    )


def _split_options(cid: str, ag: AdGroup | None, split_by: str) -> list[tuple[Entity, float]]:
    if split_by == "gender":
        return [(g, g["weight"]) for g in GENDERS]
    if split_by == "age":
        return [(a, a["weight"]) for a in AGES]
    if split_by == "location":
        return LOCATIONS[COUNTRY[CUSTOMERS[cid]["currency"]]]
    if split_by == "conversion":
        return [
            ({**c, "resource_name": f"customers/{cid}/conversionActions/{c['id']}"}, c["share"])
            for c in CONVERSION_ACTIONS
        ]
    return ag.splits.get(split_by, []) if ag else []
