"""The LinkedIn Ads emulator's data: the account's campaign groups, campaigns and
creatives (data.yaml), and each creative's metrics per UTC day, from which every pivot
and period of adAnalytics is summed. Reach is a period figure: the members an entity's
impressions of the exact period reach, saturating at its audience, never a sum of days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property, lru_cache
from typing import Any

from metrics_connect.sandbox.kit.seeded import apportion, between, draws
from metrics_connect.sandbox.kit.spec import _read

PACKAGE = "metrics_connect.networks.linkedin_ads.emulator"
# Derived metrics: sums of drawn ones (LinkedIn's own definitions).
ENGAGEMENT_PARTS = ("clicks", "likes", "comments", "shares", "follows", "companyPageClicks")
VIRAL_PARTS = tuple(f"viral{p[0].upper()}{p[1:]}" for p in ENGAGEMENT_PARTS)
MONEY = ("costInLocalCurrency", "costInUsd", "conversionValueInLocalCurrency")


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    group: int
    format: str
    objective: str
    start: date
    end: date | None
    audience: int

    @property
    def type(self) -> str:
        """LinkedIn's campaign type for the format."""
        return {"message": "SPONSORED_INMAILS", "text": "TEXT_AD"}.get(
            self.format, "SPONSORED_UPDATES"
        )

    def runs_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Creative:
    id: int
    campaign: Campaign
    title: str
    start: date

    @property
    def created_at_ms(self) -> int:
        return int((self.start - date(1970, 1, 1)).total_seconds() * 1000) + 36_000_000


class AdsData:
    def __init__(self) -> None:
        spec = _read(PACKAGE, "data.yaml")
        self.spec: dict[str, Any] = spec
        self.account: dict[str, Any] = spec["account"]
        self.account_id = int(self.account["id"])
        self.currency = str(self.account["currency"])
        self.groups = {int(k): dict(v) for k, v in spec["campaign_groups"].items()}
        self.campaigns = {
            int(k): Campaign(
                id=int(k),
                name=str(v["name"]),
                group=int(v["group"]),
                format=str(v["format"]),
                objective=str(v["objective"]),
                start=date.fromisoformat(str(v["start"])),
                end=date.fromisoformat(str(v["end"])) if v.get("end") else None,
                audience=int(v["audience"]),
            )
            for k, v in spec["campaigns"].items()
        }
        self.demographics: dict[str, dict[str, float]] = spec["demographics"]

    @cached_property
    def creatives(self) -> dict[int, Creative]:
        low, high = self.spec["creatives_per_campaign"]
        titles = self.spec["creative_titles"]
        out = {}
        for campaign in self.campaigns.values():
            count = draws("creatives", campaign.id).randint(low, high)
            for n in range(count):
                cid = campaign.id * 10 + n + 1 + 800_000_000
                title = titles[(campaign.id + n) % len(titles)]
                out[cid] = Creative(cid, campaign, title, campaign.start + timedelta(days=9 * n))
        return out

    def metric_names(self) -> list[str]:
        names: set[str] = {"impressions", "sends", *MONEY, "totalEngagements"}
        names |= {"viralTotalEngagements", "externalWebsiteConversions"}
        names |= {"viralExternalWebsiteConversions", "approximateMemberReach"}
        for fmt in self.spec["formats"].values():
            names |= set(fmt["metrics"])
        return sorted(names)

    def creative_day(self, creative_id: int, day: date) -> dict[str, float]:
        return _creative_day(self, creative_id, day)

    def totals(self, creative_ids: list[int], first: date, last: date) -> dict[str, float]:
        """Every metric summed over the creatives and days (reach aside)."""
        out: dict[str, float] = {}
        day = first
        while day <= last:
            for cid in creative_ids:
                for name, value in self.creative_day(cid, day).items():
                    out[name] = out.get(name, 0) + value
            day += timedelta(days=1)
        return out

    def reach(self, creative_ids: list[int], first: date, last: date) -> int:
        """Members reached over the exact period: the audience's share that the period's
        impressions (or sends) touch at least once, 1 - e^(-frequency)."""
        totals = self.totals(creative_ids, first, last)
        shown = totals.get("impressions", 0) + totals.get("sends", 0)
        campaigns = {self.creatives[c].campaign.id for c in creative_ids}
        audience = min(
            int(self.account["audience"]), sum(self.campaigns[c].audience for c in campaigns)
        )
        if audience <= 0 or shown <= 0:
            return 0
        return round(audience * (1 - math.exp(-shown / (audience * 2.2))))

    def demographic_split(
        self, pivot: str, metrics: dict[str, float], salt: object
    ) -> dict[str, dict[str, float]]:
        """A period's metrics split over a professional demographic's values."""
        weights = self.demographics[pivot]
        values = list(weights)
        tilted = [w * between(0.8, 1.2, pivot, v, salt) for v, w in weights.items()]
        out: dict[str, dict[str, float]] = {v: {} for v in values}
        for name, total in metrics.items():
            if name in MONEY:
                share = sum(tilted)
                for v, w in zip(values, tilted, strict=True):
                    out[v][name] = round(total * w / share, 2)
                continue
            for v, part in zip(values, apportion(int(total), tilted), strict=True):
                out[v][name] = part
        return out


@lru_cache(maxsize=200_000)
def _creative_day(data: AdsData, creative_id: int, day: date) -> dict[str, float]:
    creative = data.creatives[creative_id]
    campaign = creative.campaign
    if day < creative.start or not campaign.runs_on(day):
        return {}
    fmt = data.spec["formats"][campaign.format]
    rng = draws("creative-day", creative_id, day)
    low, high = fmt["level"]
    level = between(low, high, "level", creative_id)
    weekly = data.spec["weekly"][day.weekday()]
    age = (day - creative.start).days
    fatigue = 0.7 + 0.3 * math.exp(-age / 120)  # creatives wear out, then hold
    base = round(level * weekly * fatigue * rng.uniform(0.85, 1.15))
    values: dict[str, float] = {fmt["base"]: base}
    if fmt["base"] != "impressions":
        values["impressions"] = 0
    rates = fmt["metrics"]

    def draw(name: str) -> float:
        if name not in values:
            low_rate, high_rate, *of = rates[name]
            share = between(low_rate, high_rate, "rate", creative_id, name)
            values[name] = round(draw(of[0] if of else fmt["base"]) * share * rng.uniform(0.8, 1.2))
        return values[name]

    for name in rates:
        draw(name)
    values["totalEngagements"] = sum(values.get(p, 0) for p in ENGAGEMENT_PARTS)
    values["viralTotalEngagements"] = sum(values.get(p, 0) for p in VIRAL_PARTS)
    for prefix in ("", "viral"):
        parts = [
            f"{prefix}{'E' if prefix else 'e'}xternalWebsitePost{k}Conversions"
            for k in ("Click", "View")
        ]
        values[f"{prefix}{'E' if prefix else 'e'}xternalWebsiteConversions"] = sum(
            values.get(p, 0) for p in parts
        )
    cpm_low, cpm_high = fmt["cost_per_thousand"]
    cost = base * between(cpm_low, cpm_high, "cpm", creative_id) / 1000 * rng.uniform(0.9, 1.1)
    values["costInLocalCurrency"] = round(cost, 2)
    values["costInUsd"] = round(cost * float(data.account["usd_rate"]), 2)
    value_low, value_high = data.spec["conversion_value"]
    per_conversion = between(value_low, value_high, "value", campaign.id)
    values["conversionValueInLocalCurrency"] = round(
        values["externalWebsiteConversions"] * per_conversion, 2
    )
    return values
