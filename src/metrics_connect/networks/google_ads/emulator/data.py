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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from metrics_connect.sandbox.kit.calendar import LocalDays
from metrics_connect.sandbox.kit.formulas import Formulas
from metrics_connect.sandbox.kit.seeded import DailySeries, draws, split_figures
from metrics_connect.sandbox.kit.spec import load_spec
from metrics_connect.sandbox.kit.templates import fill

SPEC = "data.yaml"
Entity = dict[str, Any]


def spec(key: str) -> Any:
    return load_spec(__package__, SPEC, key, Any)


# Fractional metrics (conversions and their values); every other metric is an integer.
FRACTIONAL = frozenset(spec("fractions"))
SUNSETS: dict[str, date] = load_spec(__package__, SPEC, "sunsets", dict[str, date])
ACCESSIBLE: tuple[str, ...] = tuple(spec("accessible"))
CUSTOMERS: dict[str, Entity] = {
    cid: {"id": cid, "resource_name": f"customers/{cid}", "clients": [], **c}
    for cid, c in spec("customers").items()
}
RESTATEMENT: dict[str, float] = spec("restatement")
DEVICES: dict[str, float] = spec("devices")
GEO_TARGETS: dict[int, list[str]] = spec("geo_targets")
RATES: dict[str, dict[str, float]] = spec("channel_rates")
RATE_DEFAULTS: dict[str, float] = spec("rate_defaults")
IMPRESSIONS: dict[str, Any] = {
    **spec("impressions"),
    "weekly": tuple(spec("impressions")["weekly"]),
}
DAY_METRICS = Formulas(spec("day_metrics"))
HIDDEN_PARTS = {key: Formulas(f) for key, f in spec("hidden_parts").items()}
TARGET_PARTS = {kind: Formulas(f) for kind, f in spec("target_parts").items()}
UTM_MEDIUM: dict[str, str] = spec("utm_medium")
DEFAULT_LOCATIONS: dict[str, list[list[Any]]] = spec("default_locations")
LANGUAGES: dict[str, int] = spec("languages")
QUALITY: dict[str, Any] = spec("quality")
OPTIMIZATION: dict[str, Any] = spec("optimization")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


ADS: dict[str, list[list[Any]]] = spec("ads")
SUFFIXES: list[str] = spec("search_term_suffixes")
TEMPLATES: dict[str, Any] = spec("templates")
# A campaign criterion's template per type, with what that type targets.
CRITERIA = {
    kind: {**TEMPLATES["criterion"], **TEMPLATES[kind]} for kind in ("LOCATION", "LANGUAGE")
}


def geo(target_id: int) -> Entity:
    name, kind, country = GEO_TARGETS[target_id]
    canonical = name if kind == "Country" else f"{name},{country}"
    values = {"id": target_id, "name": name, "kind": kind, "country": country}
    return dict(fill(TEMPLATES["geo"], {**values, "canonical": canonical}))


RANKED_VIEWS: dict[str, list[Any]] = spec("ranked_views")
# The audience views' options, by weight.
AUDIENCES: dict[str, list[tuple[Entity, float]]] = {
    view: [({"value": v, "weight": w}, w) for v, w in spec(key).items()]
    for view, key in (("gender", "genders"), ("age", "age_ranges"))
}


@dataclass
class AdGroup:
    entity: Entity
    campaign: Entity
    weight: float
    # Views below the ad group: split name -> [(entity, weight)].
    splits: dict[str, list[tuple[Entity, float]]] = field(default_factory=dict)


def _campaign(raw: dict[str, Any]) -> tuple[Entity, list[AdGroup]]:
    cid, kind = raw["customer"], raw["type"]
    camp: Entity = fill(TEMPLATES["campaign"], {"status": "ENABLED", **raw, "raw": raw})
    groups = []
    for index, (name, weight) in enumerate(raw["ad_groups"], start=1):
        gid = raw["id"] * 100 + index
        group: Entity = fill(TEMPLATES["ad_group"], {"customer": cid, "group": gid, "name": name})
        ag = AdGroup(group, camp, float(weight))
        named = {"customer": cid, "group": gid, "group_name": name, "kind": kind.lower()}
        named |= {"medium": UTM_MEDIUM[kind], "campaign_slug": _slug(raw["name"])}
        ads = [
            fill(
                TEMPLATES["ad"],
                {**named, "id": gid * 10 + i, "suffix": suffix, "type": ad_type}
                | {"group_slug": _slug(name), "ad_slug": _slug(suffix)},
            )
            for i, (suffix, ad_type, _) in enumerate(ADS[kind], start=1)
        ]
        ag.splits["ad"] = [(ad, w) for ad, (*_, w) in zip(ads, ADS[kind], strict=True)]
        for view, (listed, columns, dealt) in RANKED_VIEWS.items():
            rows = [dict(zip(columns, row, strict=True)) for row in raw.get(listed, [])]
            if dealt:  # each ad group takes every n-th of them (n: its ad groups)
                rows = rows[index - 1 :: len(raw["ad_groups"])] or rows
            ag.splits[view] = _by_rank(
                fill(TEMPLATES[view], {**named, **row, "n": n})
                for n, row in enumerate(rows, start=1)
            )
        ag.splits["search_term"] = [
            ({"text": k["text"] + s, "status": "NONE"}, w / (j + 1))
            for k, w in ag.splits["keyword"]
            for j, s in enumerate(SUFFIXES)
        ]
        groups.append(ag)
    return camp, groups


def _by_rank(entities: Iterable[Entity]) -> list[tuple[Entity, float]]:
    """Entities weighted by their rank: 1, 1/2, 1/3..."""
    return [(entity, 1 / i) for i, entity in enumerate(entities, start=1)]


AD_GROUPS: dict[str, list[AdGroup]] = {cid: [] for cid in CUSTOMERS}
CAMPAIGNS: dict[str, list[Entity]] = {cid: [] for cid in CUSTOMERS}
for _raw in spec("campaigns"):
    _camp, _groups = _campaign(_raw)
    CAMPAIGNS[_raw["customer"]].append(_camp)
    AD_GROUPS[_raw["customer"]] += _groups
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
    return dict(fill(TEMPLATES["client"], {**CUSTOMERS[cid], "level": level}))


def criteria(cid: str) -> list[Entity]:
    """The campaigns' criteria (campaign_criterion rows): locations, then the language."""
    currency = CUSTOMERS[cid]["currency"]
    out = []
    for camp in CAMPAIGNS[cid]:
        located = [
            ("LOCATION", target, negative)
            for target, negative in camp["raw"].get("locations") or DEFAULT_LOCATIONS[currency]
        ]
        for kind, criterion, negative in [*located, ("LANGUAGE", LANGUAGES[currency], False)]:
            values = {"customer": cid, "campaign": camp["id"], "id": criterion, "type": kind}
            found = fill(CRITERIA[kind], {**values, "negative": negative})
            out.append({"customer": CUSTOMERS[cid], "campaign": camp, "criterion": found})
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
    level, trend = raw["level"] * share, raw["trend"] * share
    series = DailySeries(raw["start"], level, trend, key=key, **IMPRESSIONS)
    impressions = series.value(day)
    if impressions <= 0:
        return {}
    rate = RATES[ag.campaign["advertising_channel_type"]]
    rng = draws(*key, day)  # one generator per ad group and day: the day's draws, in order
    draw: dict[str, Callable[..., float]] = {
        "noisy": lambda value: value * rng.uniform(0.8, 1.2),
        "uniform": rng.uniform,
    }
    given = {**RATE_DEFAULTS, **rate, "impressions": impressions}
    figures = DAY_METRICS.evaluate(given, draw)
    for rate_name, formulas in HIDDEN_PARTS.items():
        if rate_name in rate:
            figures |= formulas.evaluate({**given, **figures})
    for kind, changes in raw.get("targets", {}).items():
        target = [value for since, value in changes if since <= day][-1]  # the last set by then
        figures |= TARGET_PARTS[kind].evaluate({"impressions": impressions, "target": target})
    return {k: v for k, v in figures.items() if k[0] != "_"}


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
    one: list[tuple[dict[str, Entity], float]] = [({}, 1.0)]  # not split
    devices = [({"device": {"value": d}}, w) for d, w in DEVICES.items()] if by_device else one
    views = [({split_by: e}, w) for e, w in _split_options(cid, ag, split_by)] if split_by else one
    options = [({**d, **v}, dw * vw) for d, dw in devices for v, vw in views]
    weights = [w for _, w in options]
    parts = split_figures(values, weights, FRACTIONAL) if len(options) != 1 else [values]
    return tuple(
        Cell({**base, **entities}, part)
        for (entities, _), part in zip(options, parts, strict=True)
        if any(part.values())
    )


def _split_options(cid: str, ag: AdGroup | None, split_by: str) -> list[tuple[Entity, float]]:
    if split_by in AUDIENCES:
        return AUDIENCES[split_by]
    if split_by == "location":
        return LOCATIONS[CUSTOMERS[cid]["country"]]
    if split_by == "conversion":
        return [
            ({**c, "resource_name": f"customers/{cid}/conversionActions/{c['id']}"}, c["share"])
            for c in CONVERSION_ACTIONS
        ]
    return ag.splits.get(split_by, []) if ag else []
