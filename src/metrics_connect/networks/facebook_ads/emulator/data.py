"""The sandbox ad account's raw truth: daily facts per ad, breakdown splits, restatement.

Everything the emulator serves is computed here, and tests use the same object to
compute expected figures independently of the connector and the engine.

- Facts of an (ad, day) are integers (money in cents) drawn from a generator seeded by
  the ad and the day, so they never depend on when or in which order they are read.
- Breakdown splits: each breakdown group (placement, age x gender, geography, hour of
  day) has joint cells; every integer fact of an (ad, day) is split over the cells by
  largest remainder, so every breakdown sums exactly to the total.
- Unique counts (reach, unique clicks, unique actions...) are not additive: the unique
  figure of a slice (ads x days x cells) is the sum of its daily uniques shrunk by an
  overlap factor that grows with the number of days and of ads, as audiences repeat.
- Restatement: `restate(day, scale)` changes a day's figures, as Meta does for 28 days
  while late conversions are attributed; tests use it to prove refetching.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from operator import add
from typing import Any

from metrics_connect.networks.facebook_ads.emulator.entities import (
    ACCOUNT,
    AD_LIFETIMES,
    ADS,
    ADS_BY_ID,
    ADSETS_BY_ID,
    CAMPAIGNS_BY_ID,
    SPEC,
    Ad,
)
from metrics_connect.sandbox.kit.calendar import LocalDays
from metrics_connect.sandbox.kit.formulas import Formulas
from metrics_connect.sandbox.kit.seeded import seeded_random, split_cumulative
from metrics_connect.sandbox.kit.spec import load_named, load_spec

Facts = dict[str, int]
CellWeights = list[tuple[tuple[str, ...], float]]

UNIQUE_ACTION_PREFIX = "ua:"
ACTION_PREFIX = "a:"
VALUE_PREFIX = "v:"  # action values, cents


@dataclass(frozen=True)
class Actions:
    """Action types answered under several names, sums, unique and off-Meta ones."""

    aliases: dict[str, tuple[str, ...]]
    post_engagement_parts: tuple[str, ...]
    unique: frozenset[str]
    offsite_prefixes: tuple[str, ...]
    offsite_types: frozenset[str]


@dataclass(frozen=True)
class BreakdownGroup:
    """Breakdowns that combine, and what they split (`breakdowns.groups` of data.yaml)."""

    name: str
    keys: tuple[str, ...]
    unique: bool = True
    offsite: bool = True
    video: bool = True

    def cells(self, ad: Ad) -> CellWeights:
        """(cell values, weight) for an ad; weights may depend on the ad's targeting."""
        return CELLS[self.name](ad)


@dataclass(frozen=True)
class Breakdowns:
    """Base weights of the breakdown cells (`breakdowns` of data.yaml)."""

    placements: tuple[tuple[str, str, float], ...]  # (platform, position, weight)
    devices: tuple[tuple[str, str, float], ...]  # (device platform, impression device, weight)
    off_app_placements: dict[str, tuple[tuple[str, str], ...]]  # mobile_web, desktop
    ages: dict[str, float]
    genders: dict[str, float]
    regions: tuple[tuple[str, str, float], ...]  # (country, region, weight)
    hours: tuple[float, ...]


ACTIONS: Actions = load_spec(__package__, SPEC, "actions", Actions)
ALIASES = ACTIONS.aliases
# Sums Meta reports as their own action types.
POST_ENGAGEMENT_PARTS = ACTIONS.post_engagement_parts
STORED_AS = {alias: key for key, names in ALIASES.items() for alias in names}


def action_count(cell: Cell, action_type: str) -> int:
    """An action type's count in one cell (aliases and sums resolved)."""
    key = ACTION_PREFIX + action_type
    if key in ("a:post_engagement", "a:page_engagement", "a:lead"):
        return expand(cell.facts, cell.offsite).get(key, 0)
    return cell.get(STORED_AS.get(key, key))


def expand(facts: Facts, offsite: bool) -> Facts:
    """Stored facts plus their aliases and the engagement and lead sums."""
    out = dict(facts)
    for key in ALIASES.keys() & facts.keys():
        for name in ALIASES[key]:
            if offsite or not _is_offsite_key(name):
                out[name] = facts[key]
    post_engagement = sum(facts.get(k, 0) for k in POST_ENGAGEMENT_PARTS)
    if post_engagement:
        out["a:post_engagement"] = post_engagement
        out["a:page_engagement"] = post_engagement + facts.get("a:like", 0)
        out["inline_post_engagement"] = post_engagement
    leads = facts.get("a:leadgen_grouped", 0) + facts.get("a:offsite_conversion.fb_pixel_lead", 0)
    if leads and offsite:
        out["a:lead"] = leads
    return out


@lru_cache(maxsize=4096)
def is_unique_key(key: str) -> bool:
    return key in ACTIONS.unique or key.startswith(UNIQUE_ACTION_PREFIX)


@lru_cache(maxsize=4096)
def _is_offsite_key(key: str) -> bool:
    action = key[2:]
    return key.startswith((ACTION_PREFIX, VALUE_PREFIX)) and (
        action.startswith(ACTIONS.offsite_prefixes) or action in ACTIONS.offsite_types
    )


# --- breakdown groups: joint cells and their base weights -------------------------------

BREAKDOWNS: Breakdowns = load_spec(__package__, SPEC, "breakdowns", Breakdowns)
GROUPS: dict[str, BreakdownGroup] = load_named(
    __package__, SPEC, "breakdown_groups", BreakdownGroup
)
PLACEMENTS = BREAKDOWNS.placements
# Placements by device: the mobile apps serve all but the right-hand column.
PLACEMENT_DEVICES: dict[str, tuple[tuple[str, str], ...]] = {
    "mobile_app": tuple((p, pos) for p, pos, _ in PLACEMENTS if pos != "right_hand_column"),
    **BREAKDOWNS.off_app_placements,
}
HOUR_WEIGHTS = BREAKDOWNS.hours


def hour_label(hour: int) -> str:
    return f"{hour:02d}:00:00 - {hour:02d}:59:59"


def _placement_cells(ad: Ad) -> CellWeights:
    out: CellWeights = []
    for platform, position, pw in PLACEMENTS:
        # Reels and stories favour video creatives.
        w = pw * (1.6 if ad.media_type == "VIDEO" and "reels" in position else 1.0)
        for device, impression_device, dw in BREAKDOWNS.devices:
            if (platform, position) not in PLACEMENT_DEVICES.get(device, ()):
                continue
            out.append(((platform, position, device, impression_device), w * dw))
    return out


def _demographic_cells(ad: Ad) -> CellWeights:
    adset = ADSETS_BY_ID[ad.adset_id]
    out: CellWeights = []
    for age, aw in BREAKDOWNS.ages.items():
        low = int(age.split("-")[0].rstrip("+"))
        high = 99 if age.endswith("+") else int(age.split("-")[1])
        if aw == 0 or high < adset.age_min or low > adset.age_max:
            continue
        for gender, gw in BREAKDOWNS.genders.items():
            # Targeting women: a few men still show (misreported profiles).
            share = 0.05 if adset.genders == (2,) and gender == "male" else 1.0
            out.append(((age, gender), aw * gw * share))
    return out


def _geo_cells(_ad: Ad) -> CellWeights:
    return [((country, region), w) for country, region, w in BREAKDOWNS.regions]


def _hour_cells(_ad: Ad) -> CellWeights:
    return [((hour_label(h),), w) for h, w in enumerate(HOUR_WEIGHTS)]


def _advertiser_hour_cells(_ad: Ad) -> CellWeights:
    # Audience in Portugal and the US shifts a little weight by a few hours.
    shifted = [HOUR_WEIGHTS[(h - 1) % 24] * 0.04 + HOUR_WEIGHTS[h] * 0.96 for h in range(24)]
    return [((hour_label(h),), w) for h, w in enumerate(shifted)]


CELLS = {
    "placement": _placement_cells,
    "demographic": _demographic_cells,
    "geo": _geo_cells,
    "hourly_audience": _hour_cells,
    "hourly_advertiser": _advertiser_hour_cells,
}
BREAKDOWN_KEYS = {key: group for group in GROUPS.values() for key in group.keys}


def group_for(breakdowns: Sequence[str]) -> BreakdownGroup | None:
    """The one group all breakdowns belong to (None: no breakdown); KeyError/ValueError."""
    if not breakdowns:
        return None
    groups = {BREAKDOWN_KEYS[b].name for b in breakdowns}
    if len(groups) > 1:
        raise ValueError("breakdowns of different families cannot be combined")
    return GROUPS[groups.pop()]


# --- daily facts ----------------------------------------------------------------------


@dataclass(frozen=True)
class FactGroup:
    values: dict[str, str]  # fact (or _working value): expression
    when: str = "True"


@dataclass(frozen=True)
class FactModel:
    link_share: dict[str, float]  # by campaign objective
    engagement_rate: dict[str, float]
    weekday: tuple[float, ...]  # Monday..Sunday
    daily: tuple[FactGroup, ...]


MODEL: FactModel = load_spec(__package__, SPEC, "facts", FactModel)


def _identifier(key: str) -> str:
    return re.sub(r"[:.]", "_", key)


# Each group's condition and its formulas, by their names in expressions.
PROGRAM = [
    (
        Formulas({"when": group.when}, conditions=True),
        Formulas({_identifier(k): text for k, text in group.values.items()}, conditions=True),
    )
    for group in MODEL.daily
]
FACT_KEYS = {_identifier(k): k for group in MODEL.daily for k in group.values if k[0] != "_"}


def _base_facts(ad: Ad, day: date) -> Facts:
    r = seeded_random("fb-ads", ad.id, day.isoformat())
    objective = CAMPAIGNS_BY_ID[ad.campaign_id].objective

    def draw(x: float) -> int:
        whole = math.floor(x)
        return whole + (1 if r.random() < x - whole else 0)

    functions: dict[str, Callable[..., Any]] = {"uniform": r.uniform, "draw": draw}
    # A fact the ad did not draw reads 0.
    scope = dict(
        dict.fromkeys(FACT_KEYS, 0),
        **vars(ad),
        objective=objective,
        optimization_goal=ADSETS_BY_ID[ad.adset_id].optimization_goal,
        season=1 + 0.15 * math.sin(2 * math.pi * day.timetuple().tm_yday / 365.0),
        weekday=MODEL.weekday[day.weekday()],
        link_share=MODEL.link_share[objective],
        engagement_rate=MODEL.engagement_rate.get(objective, 0.004),
    )
    f: Facts = {}
    for when, formulas in PROGRAM:
        if when.evaluate(scope, functions)["when"]:
            values = formulas.evaluate(scope, functions)
            scope.update(values)
            f.update({FACT_KEYS[name]: v for name, v in values.items() if name in FACT_KEYS})
    return f


@dataclass
class Cell:
    """One piece of an (ad, day): its breakdown values (empty: the whole) and its facts,
    as a vector over the ad's fixed key order (summed in C, not key by key)."""

    ad_id: str
    day: date
    values: dict[str, str]
    keys: tuple[str, ...]
    vector: tuple[int, ...]
    # Whether unique counts (reach, unique actions) exist for this cell (not hourly).
    uniques: bool = True
    # Whether off-Meta (pixel) actions exist for this cell (not by region or hour).
    offsite: bool = True

    @property
    def facts(self) -> Facts:
        return {k: v for k, v in zip(self.keys, self.vector, strict=True) if v}

    def get(self, key: str) -> int:
        index = _key_index(self.keys).get(key)
        return self.vector[index] if index is not None else 0


@lru_cache(maxsize=256)
def _key_index(keys: tuple[str, ...]) -> dict[str, int]:
    return {k: i for i, k in enumerate(keys)}


def _add_auction(sums: dict[str, int], ad_id: str) -> None:
    """Auction figures are impression-weighted: sum(bid x impressions) / impressions."""
    cpm = ADS_BY_ID[ad_id].cpm_cents
    impressions = sums.get("impressions", 0)
    sums["auction_bid_x_impressions"] = round(cpm * 1.3 * impressions / 1000)
    sums["auction_max_competitor_bid_x_impressions"] = round(cpm * 1.6 * impressions / 1000)
    sums["auction_competitiveness_x_impressions"] = impressions * 8


class AdsData:
    """The ad account's raw truth, shared by the emulator's endpoints and tests."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self.days = LocalDays(ACCOUNT.timezone_name)
        self._restated: dict[tuple[str, date], float] = {}
        self._cache: dict[tuple[str, date, str], list[Cell]] = {}
        self._base: dict[tuple[str, date], Facts] = {}
        self._key_orders: dict[tuple[str, str], tuple[str, ...]] = {}
        self._day_spend: dict[date, int] = {}

    def today(self) -> date:
        return self.days.day_of(self._now())

    def restate(self, day: date, scale: float, ad_ids: Iterable[str] | None = None) -> None:
        """Change a day's figures (all facts of those ads times `scale`)."""
        for ad_id in ad_ids if ad_ids is not None else ADS_BY_ID:
            self._restated[(ad_id, day)] = scale
        self._cache = {k: v for k, v in self._cache.items() if k[1] != day}
        self._day_spend.pop(day, None)

    def facts(self, ad_id: str, day: date) -> Facts:
        """An (ad, day)'s whole facts; empty when the ad did not deliver that day."""
        ad = ADS_BY_ID[ad_id]
        today = self.today()
        if day > today or not AD_LIFETIMES[ad_id].active_on(day):
            return {}
        f = self._base.get((ad_id, day))
        if f is None:
            f = self._base[(ad_id, day)] = _base_facts(ad, day)
        scale = self._restated.get((ad_id, day), 1.0)
        if day == today:
            scale *= self.days.wall_clock_share(self._now())
        if scale != 1.0:
            f = {k: round(v * scale) for k, v in f.items()}
        return f

    def _keys(self, ad_id: str, group: BreakdownGroup | None, facts: Facts) -> tuple[str, ...]:
        """The ad's key order for a breakdown group (the facts that group can split)."""
        name = group.name if group is not None else ""
        keys = self._key_orders.get((ad_id, name))
        if keys is None:
            keys = tuple(
                k
                for k in sorted(facts)
                if group is None
                or (
                    (group.unique or not is_unique_key(k))
                    and (group.offsite or not _is_offsite_key(k))
                    and (group.video or not k.startswith("video_"))
                )
            )
            self._key_orders[(ad_id, name)] = keys
        return keys

    def cells(self, ad_id: str, day: date, group: BreakdownGroup | None) -> list[Cell]:
        if group is None:
            f = self.facts(ad_id, day)
            if not f:
                return []
            keys = self._keys(ad_id, None, f)
            return [Cell(ad_id, day, {}, keys, tuple(f.get(k, 0) for k in keys))]
        key = (ad_id, day, group.name)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        f = self.facts(ad_id, day)
        out: list[Cell] = []
        if f:
            ad = ADS_BY_ID[ad_id]
            r = seeded_random("fb-ads-split", ad_id, day.isoformat(), group.name)
            base = group.cells(ad)
            cumulative = list(accumulate(w * r.uniform(0.85, 1.15) for _, w in base))
            fractions = [c / cumulative[-1] for c in cumulative]
            keys = self._keys(ad_id, group, f)
            parts = [split_cumulative(f.get(k, 0), fractions) for k in keys]
            for (values, _), vector in zip(base, zip(*parts, strict=True), strict=True):
                if any(vector):
                    out.append(
                        Cell(
                            ad_id,
                            day,
                            dict(zip(group.keys, values, strict=True)),
                            keys,
                            vector,
                            group.unique,
                            group.offsite,
                        )
                    )
        if day != self.today():
            self._cache[key] = out
        return out

    def slice_cells(
        self,
        start: date,
        end: date,
        ad_ids: Iterable[str] | None = None,
        where: Callable[[Cell], bool] | None = None,
        group: BreakdownGroup | None = None,
    ) -> list[Cell]:
        """The cells of [start, end] (of a breakdown group; None: whole) of some ads."""
        ids = list(ad_ids) if ad_ids is not None else [a.id for a in ADS]
        out: list[Cell] = []
        day = start
        while day <= end:
            for ad_id in ids:
                for cell in self.cells(ad_id, day, group):
                    if where is None or where(cell):
                        out.append(cell)
            day += timedelta(days=1)
        return out

    @staticmethod
    def totals(cells: Sequence[Cell]) -> Facts:
        """Additive facts summed; unique facts as the slice's unique figure."""
        vectors: dict[str, tuple[tuple[str, ...], list[int]]] = {}
        days_by_ad: dict[str, set[date]] = {}
        with_uniques = with_offsite = False
        for cell in cells:
            days_by_ad.setdefault(cell.ad_id, set()).add(cell.day)
            with_uniques = with_uniques or cell.uniques
            with_offsite = with_offsite or cell.offsite
            held = vectors.get(cell.ad_id)
            if held is None:
                vectors[cell.ad_id] = (cell.keys, list(cell.vector))
            else:  # a slice is of one breakdown group: an ad's cells share its key order
                assert held[0] is cell.keys, "cells of two breakdown groups in one slice"
                vectors[cell.ad_id] = (held[0], list(map(add, held[1], cell.vector)))
        per_ad = {ad: dict(zip(k, v, strict=True)) for ad, (k, v) in vectors.items()}
        out: dict[str, int] = {}
        uniques: dict[str, float] = {}
        if not with_uniques:
            # No unique counts (hourly rows): aliases and sums are linear, expand once.
            for ad_id, sums in per_ad.items():
                _add_auction(sums, ad_id)
                for k, v in sums.items():
                    out[k] = out.get(k, 0) + v
            return {k: v for k, v in expand(out, with_offsite).items() if v}
        for ad_id, sums in per_ad.items():
            shrink = 1 + 0.3 * math.log(max(len(days_by_ad[ad_id]), 1))
            _add_auction(sums, ad_id)
            for k, v in expand(sums, with_offsite).items():
                if is_unique_key(k):
                    uniques[k] = uniques.get(k, 0.0) + v / shrink
                else:
                    out[k] = out.get(k, 0) + v
                    if with_uniques and k.startswith(ACTION_PREFIX):
                        # People taking an action: 90% of the actions of a day are by
                        # distinct people, and they repeat over days like reach.
                        unique = UNIQUE_ACTION_PREFIX + k[2:]
                        uniques[unique] = uniques.get(unique, 0.0) + 0.9 * v / shrink
        cross = 1 + 0.08 * math.log(max(len(per_ad), 1))
        for k, shrunk in uniques.items():
            out[k] = round(shrunk / cross)
        return {k: v for k, v in out.items() if v}

    def lifetime_spend(self) -> int:
        """Spend (cents) from the account's creation to now: the account's amount_spent.

        Each past day's spend is summed once and kept (only a restatement changes it), so
        a replay that asks every day of three years costs a day's sum per day.
        """
        today = self.today()
        day = date.fromisoformat(ACCOUNT.created_time[:10])
        total = 0
        while day < today:
            spent = self._day_spend.get(day)
            if spent is None:
                spent = self._day_spend[day] = self.period_totals(day, day).get("spend", 0)
            total += spent
            day += timedelta(days=1)
        return total + self.period_totals(today, today).get("spend", 0)

    def period_totals(
        self,
        start: date,
        end: date,
        ad_ids: Iterable[str] | None = None,
        where: dict[str, Sequence[str]] | None = None,
    ) -> Facts:
        """Test helper: the facts of [start, end] for some ads, cells restricted by values."""
        if not where:
            return self.totals(self.slice_cells(start, end, ad_ids))
        conditions = dict(where)

        def keep(cell: Cell) -> bool:
            return all(cell.values.get(k) in v for k, v in conditions.items())

        return self.totals(self.slice_cells(start, end, ad_ids, keep, group_for(list(where))))

    def ads_of(self, entity_id: str) -> list[str]:
        """The ads under an account, campaign, ad set or ad id."""
        if entity_id in (ACCOUNT.id, ACCOUNT.account_id):
            return [a.id for a in ADS]
        if entity_id in CAMPAIGNS_BY_ID:
            return [a.id for a in ADS if a.campaign_id == entity_id]
        if entity_id in ADSETS_BY_ID:
            return [a.id for a in ADS if a.adset_id == entity_id]
        if entity_id in ADS_BY_ID:
            return [entity_id]
        raise KeyError(entity_id)
