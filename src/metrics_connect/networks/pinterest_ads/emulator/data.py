"""The emulated ad accounts' delivery, from data.yaml.

The atoms are one ad's columns on one UTC day, drawn from (ad, day) alone, so a day
never depends on which other days were asked. Every level (account, campaign, ad group,
ad, keyword) and granularity (day, week, month, total) sums those atoms; the columns
Pinterest computes (CTR, CPM, ROAS...) are ratios of the row's sums, and reach is a
period figure: the row's impressions over a frequency that grows with its days.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from metrics_connect.sandbox.kit.seeded import DailySeries, apportion, between, draws
from metrics_connect.sandbox.kit.spec import load_spec

SPEC = "data.yaml"
LEVELS = ("ADVERTISER", "CAMPAIGN", "AD_GROUP", "AD", "PIN_PROMOTION", "KEYWORD")
# Not a column of the API: the seconds behind TOTAL_VIDEO_AVG_WATCHTIME_IN_SECOND.
HIDDEN = frozenset({"VIDEO_WATCH_SECONDS", "SHOWCASE_SESSIONS"})


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    currency: str
    country: str
    delivers: bool


@dataclass(frozen=True)
class Ad:
    id: str
    name: str
    weight: float
    video: int | None


@dataclass(frozen=True)
class Keyword:
    id: str
    text: str
    weight: float


@dataclass(frozen=True)
class AdGroup:
    id: str
    name: str
    ads: tuple[Ad, ...]
    keywords: tuple[Keyword, ...]


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    objective: str
    start: date
    end: date | None
    ad_groups: tuple[AdGroup, ...]

    def active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Series:
    start: date
    level: float
    trend_per_day: float
    weekly: tuple[float, float, float, float, float, float, float]
    yearly_amplitude: float


ACCOUNTS: tuple[Account, ...] = load_spec(__package__, SPEC, "accounts", tuple[Account, ...])
CAMPAIGNS: tuple[Campaign, ...] = load_spec(__package__, SPEC, "campaigns", tuple[Campaign, ...])
SERIES: Series = load_spec(__package__, SPEC, "series", Series)
COLUMNS: tuple[tuple[Any, ...], ...] = load_spec(
    __package__, SPEC, "columns", tuple[tuple[Any, ...], ...]
)
RATIOS: dict[str, tuple[str, str, float]] = load_spec(
    __package__, SPEC, "ratios", dict[str, tuple[str, str, float]]
)
COUNTED = ("IMPRESSION_1", *(str(c[0]) for c in COLUMNS))
SERVED = (
    frozenset(COUNTED) - HIDDEN
    | frozenset(RATIOS)
    | {
        "TOTAL_IMPRESSION_USER",
        "TOTAL_IMPRESSION_FREQUENCY",
        "VIDEO_LENGTH",
    }
)


def account(account_id: str) -> Account | None:
    return next((a for a in ACCOUNTS if a.id == account_id), None)


def delivering(account_id: str) -> tuple[Campaign, ...]:
    found = account(account_id)
    return CAMPAIGNS if found is not None and found.delivers else ()


def ads_of(campaigns: Iterable[Campaign]) -> Iterator[tuple[Campaign, AdGroup, Ad]]:
    for campaign in campaigns:
        for group in campaign.ad_groups:
            for ad in group.ads:
                yield campaign, group, ad


@lru_cache(maxsize=65536)
def ad_day(campaign: Campaign, ad: Ad, day: date) -> dict[str, int]:
    """One ad's counted columns on one UTC day (empty when it does not deliver)."""
    if not campaign.active_on(day):
        return {}
    series = DailySeries(
        start=SERIES.start,
        level=SERIES.level * ad.weight,
        trend_per_day=SERIES.trend_per_day * ad.weight,
        weekly=SERIES.weekly,
        yearly_amplitude=SERIES.yearly_amplitude,
        noise_low=0.85,
        noise_high=1.15,
        key=("pinterest_ads", ad.id),
    )
    values = {"IMPRESSION_1": series.value(day)}
    rng = draws("pinterest_ads", ad.id, day)
    for column, base, low, high, *flags in COLUMNS:
        factor = rng.uniform(float(low), float(high))
        video_only = "video" in flags
        values[str(column)] = 0 if video_only and ad.video is None else round(values[base] * factor)
    return values


def bucket(day: date, granularity: str) -> date | None:
    if granularity == "TOTAL":
        return None
    if granularity == "WEEK":
        return day - timedelta(days=day.weekday())
    if granularity == "MONTH":
        return day.replace(day=1)
    return day


@dataclass
class Group:
    """One answer row before rendering: its entity columns and summed atoms."""

    entity: dict[str, str]
    sums: dict[str, int]
    days: set[date]
    video_lengths: list[int]


def grouped(
    account_id: str, level: str, start: date, end: date, granularity: str, ids: set[str] | None
) -> dict[tuple[str, date | None], Group]:
    """Every (entity, bucket) of the account's delivery at a level."""
    out: dict[tuple[str, date | None], Group] = {}
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    for campaign, group, ad in ads_of(delivering(account_id)):
        for day in days:
            atoms = ad_day(campaign, ad, day)
            if not atoms:
                continue
            for entity, share in entities(account_id, level, campaign, group, ad, atoms):
                if ids is not None and entity["id"] not in ids:
                    continue
                key = (entity["id"], bucket(day, granularity))
                row = out.setdefault(key, Group(entity, {}, set(), []))
                for column, value in share.items():
                    row.sums[column] = row.sums.get(column, 0) + value
                row.days.add(day)
                if ad.video is not None:
                    row.video_lengths.append(ad.video)
    return out


def entities(
    account_id: str, level: str, campaign: Campaign, group: AdGroup, ad: Ad, atoms: dict[str, int]
) -> list[tuple[dict[str, str], dict[str, int]]]:
    """The entities an ad's day counts for at a level, with their share of it."""
    ids = {
        "AD_ACCOUNT_ID": account_id,
        "ADVERTISER_ID": account_id,
        "CAMPAIGN_ID": campaign.id,
        "CAMPAIGN_NAME": campaign.name,
        "CAMPAIGN_OBJECTIVE_TYPE": campaign.objective,
    }
    if level == "ADVERTISER":
        return [({"id": account_id, "AD_ACCOUNT_ID": account_id}, atoms)]
    if level == "CAMPAIGN":
        return [({"id": campaign.id, **ids}, atoms)]
    ids |= {"AD_GROUP_ID": group.id, "AD_GROUP_NAME": group.name}
    if level == "AD_GROUP":
        return [({"id": group.id, **ids}, atoms)]
    if level in ("AD", "PIN_PROMOTION"):
        ad_ids = {"AD_ID": ad.id, "PIN_PROMOTION_ID": ad.id, "AD_NAME": ad.name}
        return [({"id": ad.id, **ids, **ad_ids}, atoms)]
    # KEYWORD: an ad group's search delivery split over its keywords by weight.
    weights = [k.weight for k in group.keywords]
    splits = {c: apportion(v, weights) for c, v in atoms.items()}
    return [
        (
            {"id": k.id, **ids, "KEYWORD_ID": k.id, "KEYWORD": k.text},
            {c: parts[i] for c, parts in splits.items()},
        )
        for i, k in enumerate(group.keywords)
    ]


def reach(account_id: str, entity_id: str, first: date, last: date, impressions: int) -> int:
    """People reached over the days first..last: a period figure, never a sum of days."""
    span = (last - first).days + 1
    frequency = (1.12 + 0.32 * math.log(span)) * between(
        0.95, 1.05, "pinterest_ads", "reach", account_id, entity_id, first, last
    )
    return round(impressions / frequency)


def render(account_id: str, group: Group, columns: list[str], day: date | None) -> dict[str, Any]:
    """An answer row: the asked columns that have a value (the API leaves out the rest)."""
    row: dict[str, Any] = {k: v for k, v in group.entity.items() if k != "id"}
    if day is not None:
        row["DATE"] = day.isoformat()
    sums = group.sums
    for column in columns:
        if column in RATIOS:
            numerator, denominator, scale = RATIOS[column]
            if sums.get(denominator):
                row[column] = sums.get(numerator, 0) / sums[denominator] * scale
        elif column in ("TOTAL_IMPRESSION_USER", "TOTAL_IMPRESSION_FREQUENCY"):
            impressions = sums.get("IMPRESSION_1", 0) + sums.get("IMPRESSION_2", 0)
            people = reach(
                account_id, group.entity["id"], min(group.days), max(group.days), impressions
            )
            if column == "TOTAL_IMPRESSION_USER":
                row[column] = people
            elif people:
                row[column] = impressions / people
        elif column == "VIDEO_LENGTH":
            if group.video_lengths:
                row[column] = sum(group.video_lengths) / len(group.video_lengths)
        elif column in sums and column not in HIDDEN:
            row[column] = sums[column]
    return row


def analytics(
    account_id: str,
    level: str,
    start: date,
    end: date,
    granularity: str,
    columns: list[str],
    ids: set[str] | None = None,
) -> list[dict[str, Any]]:
    """The rows of an analytics answer or report, by entity then bucket."""
    rows = grouped(account_id, level, start, end, granularity, ids)
    return [
        render(account_id, group, columns, day)
        for (_, day), group in sorted(
            rows.items(), key=lambda item: (item[0][0], item[0][1] or start)
        )
    ]
