"""The sandbox advertiser's numbers: each ad's day from data.yaml's seeded spec.

A day's figures cover the advertiser's local midnight to midnight (its time zone, as
TikTok reports); today is partial (scaled by the share of the day gone by). Reach is a
unique count: per day, impressions over a drawn frequency; over a period, people come
back (`overlap`) and see several ads (`ad_overlap`), so it is never the sum of days.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from metrics_connect.sandbox.kit.calendar import LocalDays, partial
from metrics_connect.sandbox.kit.seeded import (
    DailySeries,
    Lifetime,
    between,
    period_uniques,
    split_by_weights,
)
from metrics_connect.sandbox.kit.spec import SpecModel, load_document
from metrics_connect.sandbox.kit.templates import fill

# Figures every ad-day has; data.yaml's `metrics` derive the others from them.
CORE = ("impressions", "clicks", "spend", "conversion", "result", "video_play_actions")
MONEY_DIGITS = 2


class CampaignSpec(SpecModel):
    campaign_id: str
    campaign_name: str
    objective_type: str
    start: date
    end: date | None = None
    ads: int
    level: float
    cpm: float
    ctr: float
    cvr: float


class MetricSpec(SpecModel):
    driver: str | None = None
    rate: float = 0.0
    of: str | None = None
    mean: float = 0.0


class ReportSpec(SpecModel):
    """data.yaml's `report`: what the integrated report accepts and derives."""

    level_dimension: dict[str, str]
    audience_dimensions: tuple[str, ...]
    max_days_by_day: int
    max_days: int
    max_page_size: int
    filters: dict[str, str]
    audience_metrics: frozenset[str]
    ratios: dict[str, tuple[str, str, int]]
    attributes: dict[str, tuple[str, ...]]
    hidden: frozenset[str]


class DataSpec(SpecModel):
    seed: str
    advertiser: dict[str, Any]
    campaigns: tuple[CampaignSpec, ...]
    ad_fields: dict[str, str]
    advertiser_info: dict[str, Any]
    token_answer: dict[str, Any]
    texts: dict[str, str]
    weekly: tuple[float, ...]
    noise: tuple[float, float]
    result_click_share: float
    play_seconds: tuple[float, float]
    daily_frequency: tuple[float, float]
    overlap: float
    ad_overlap: float
    audience: dict[str, dict[str, float]]
    metrics: dict[str, MetricSpec]
    report: ReportSpec


@dataclass(frozen=True)
class Ad:
    ad_id: str
    ad_name: str
    campaign: CampaignSpec
    lifetime: Lifetime  # its campaign's
    # Its ID dimensions and attribute metrics (data.yaml's `ad_fields`).
    fields: dict[str, str] = field(compare=False)


Cell = dict[str, float]


class AdsData:
    def __init__(self, spec: DataSpec) -> None:
        self.spec = spec
        self.advertiser = spec.advertiser
        self.advertiser_id = str(spec.advertiser["advertiser_id"])
        self.days = LocalDays(str(spec.advertiser["timezone"]))
        self.first_day = date.fromisoformat(str(spec.advertiser["first_day"]))
        self._cells: dict[tuple[str, date], Cell] = {}

    @cached_property
    def ads(self) -> tuple[Ad, ...]:
        out = []
        for campaign in self.spec.campaigns:
            for i in range(campaign.ads):
                ad_id = f"{campaign.campaign_id[:-3]}{int(campaign.campaign_id[-3:]) * 10 + i}"
                values = {"advertiser": self.advertiser, "campaign": campaign, "ad_id": ad_id}
                fields = fill(self.spec.ad_fields, values | {"n": i + 1})
                lifetime = Lifetime(campaign.start, campaign.end)
                out.append(Ad(ad_id, fields["ad_name"], campaign, lifetime, fields))
        return tuple(out)

    @cached_property
    def metric_names(self) -> tuple[str, ...]:
        return (*CORE, "video_play_seconds", "reach", *self.spec.metrics)

    def _series(self, ad: Ad) -> DailySeries:
        campaign = self.spec.campaigns.index(ad.campaign)
        weight = between(0.6, 1.4, self.spec.seed, "ad-weight", ad.ad_id)
        return DailySeries(
            start=ad.campaign.start,
            level=ad.campaign.level / ad.campaign.ads * weight,
            trend_per_day=ad.campaign.level * 0.0004 * (1 if campaign % 2 == 0 else -0.5),
            weekly=self.spec.weekly,
            yearly_amplitude=0.12,
            noise_low=self.spec.noise[0],
            noise_high=self.spec.noise[1],
            key=(self.spec.seed, "impressions", ad.ad_id),
        )

    def full_day(self, ad: Ad, day: date) -> Cell:
        """The ad's figures of a whole day (zeros outside its campaign's dates)."""
        key = (ad.ad_id, day)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._make_cell(ad, day) if ad.lifetime.active_on(day) else {}
            self._cells[key] = cell
        return cell

    def _draw(self, low: float, high: float, *parts: object) -> float:
        return between(low, high, self.spec.seed, *parts)

    def _make_cell(self, ad: Ad, day: date) -> Cell:
        c, draw = ad.campaign, self._draw
        impressions = max(0, self._series(ad).value(day))
        clicks = round(impressions * c.ctr * draw(0.85, 1.15, "ctr", ad.ad_id, day))
        conversion = round(clicks * c.cvr * draw(0.8, 1.2, "cvr", ad.ad_id, day))
        plays = round(impressions * draw(0.25, 0.45, "plays", ad.ad_id, day))
        per_play = draw(*self.spec.play_seconds, "play-seconds", ad.ad_id)
        cell: Cell = {
            "impressions": impressions,
            "clicks": clicks,
            "spend": round(impressions / 1000 * c.cpm * draw(0.9, 1.1, "cpm", ad.ad_id, day), 2),
            "conversion": conversion,
            "result": conversion + round(clicks * self.spec.result_click_share),
            "video_play_actions": plays,
            "video_play_seconds": round(plays * per_play * draw(0.9, 1.1, "sec", ad.ad_id, day)),
            "reach": round(impressions / draw(*self.spec.daily_frequency, "freq", ad.ad_id, day)),
        }
        for name, metric in self.spec.metrics.items():
            if metric.driver is not None:
                base = cell[metric.driver]
                cell[name] = round(base * metric.rate * draw(0.8, 1.2, name, ad.ad_id, day))
        for name, metric in self.spec.metrics.items():
            if metric.of is not None:
                mean = metric.mean * draw(0.9, 1.1, name, ad.ad_id, day)
                cell[name] = round(cell[metric.of] * mean, MONEY_DIGITS)
        return cell

    def day_cell(self, ad: Ad, day: date, at: datetime) -> Cell:
        """The ad's figures of `day` as known at `at`: today partial, the future empty."""
        share = self.days.elapsed_share(day, at)
        if share <= 0 or day < self.first_day:
            return {}
        full = self.full_day(ad, day)
        return full if share >= 1 else partial(full, share, MONEY_DIGITS)

    def reach(self, cells: Iterable[tuple[Ad, date, Cell]]) -> int:
        """Unique people reached by these ad-days: never the sum of the days' reach."""
        daily = ((ad.ad_id, day, c["reach"]) for ad, day, c in cells if c.get("impressions"))
        return period_uniques(daily, self.spec.overlap, self.spec.ad_overlap)

    def viewers(self, plays: float, days: int) -> float:
        """People who played a video over `days` days (for watch time per person)."""
        return plays / (1.3 * (1 + self.spec.overlap * math.log(max(days, 1))))

    def audience_split(self, ad: Ad, dimension: str, cell: Cell, metric: str) -> dict[str, float]:
        """A cell's figure split by an audience dimension's values (integers stay whole)."""
        weights = {
            value: share * self._draw(0.8, 1.2, "audience", dimension, value, ad.ad_id)
            for value, share in self.spec.audience[dimension].items()
        }
        digits = MONEY_DIGITS if is_money(metric) else None
        return split_by_weights(cell.get(metric, 0), weights, digits)


def is_money(name: str) -> bool:
    """An amount in the advertiser's currency (two decimals), not a count."""
    return name == "spend" or name.endswith("_value") or name.startswith(("cost_", "cp"))


def load_data() -> AdsData:
    return AdsData(load_document(__package__ or "", "data.yaml", DataSpec))
