"""The emulated ads accounts and what their campaigns deliver, from data.yaml.

A campaign's day is drawn from (account, campaign, day) alone, so a day never depends
on which other days were asked: impressions from a daily series, engagements per
impression, clicks, likes... per engagement, and spend = billed engagements x the
campaign's cost, in micros of the account's currency. An account's day is the sum of
its campaigns' days; a line item carries its campaign's delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from metrics_connect.sandbox.kit.seeded import DailySeries, Lifetime, between
from metrics_connect.sandbox.kit.spec import load_spec

SPEC = "data.yaml"


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    timezone: str
    currency: str
    created: date
    funding_instrument: str


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    start: date
    end: date | None
    level: float
    trend: float
    weekly: tuple[float, float, float, float, float, float, float]
    cost: float  # per billed engagement, in the account's currency
    line_item: str


def _spec(key: str, shape: Any) -> Any:
    return load_spec(__package__, SPEC, key, shape)


ACCOUNTS: tuple[Account, ...] = _spec("accounts", tuple[Account, ...])
CAMPAIGNS: dict[str, tuple[Campaign, ...]] = _spec("campaigns", dict[str, tuple[Campaign, ...]])
METRIC_GROUPS: dict[str, tuple[str, ...]] = _spec("metric_groups", dict[str, tuple[str, ...]])
# metric -> (the metric it is a share of, low, high)
RATES: dict[str, tuple[str, float, float]] = _spec("rates", dict[str, tuple[str, float, float]])
# The metrics a day carries (the others of their groups answer null).
GENERATED: tuple[str, ...] = _spec("generated", tuple[str, ...])
ENTITIES: tuple[str, ...] = _spec("entities", tuple[str, ...])
HOURLY_WEIGHTS: tuple[float, ...] = _spec("hourly_weights", tuple[float, ...])
ZERO = dict.fromkeys(GENERATED, 0)


def account(account_id: str) -> Account | None:
    return next((a for a in ACCOUNTS if a.id == account_id), None)


def campaigns_of(account_id: str) -> tuple[Campaign, ...]:
    return CAMPAIGNS.get(account_id, ())


@lru_cache(maxsize=65536)
def campaign_day(account_id: str, campaign: Campaign, day: date) -> dict[str, int]:
    """What the campaign delivered on its account's local day (zeros outside its life)."""
    if not Lifetime(campaign.start, campaign.end).active_on(day):
        return ZERO
    key = (account_id, campaign.id)
    series = DailySeries(
        start=campaign.start,
        level=campaign.level,
        trend_per_day=campaign.trend,
        weekly=campaign.weekly,
        yearly_amplitude=0.08,
        noise_low=0.85,
        noise_high=1.15,
        key=(*key, "impressions"),
    )

    values = {"impressions": series.value(day)}
    for name, (of, low, high) in RATES.items():
        values[name] = round(values[of] * between(low, high, *key, name, day))
    # Micros, in whole cents as X bills them.
    billed = round(values["billed_engagements"] * campaign.cost * 100) * 10_000
    return values | {"billed_charge_local_micro": billed}


def account_day(account_id: str, day: date) -> dict[str, int]:
    out = dict(ZERO)
    for campaign in campaigns_of(account_id):
        for name, value in campaign_day(account_id, campaign, day).items():
            out[name] += value
    return out


def entity_day(account_id: str, entity: str, entity_id: str, day: date) -> dict[str, int] | None:
    """A day of an entity of the account; None when the account has no such entity."""
    if entity in ("ACCOUNT", "FUNDING_INSTRUMENT"):
        found = account(account_id)
        if found is None or entity_id not in (found.id, found.funding_instrument):
            return None
        return account_day(account_id, day)
    for campaign in campaigns_of(account_id):
        if (entity == "CAMPAIGN" and campaign.id == entity_id) or (
            entity == "LINE_ITEM" and campaign.line_item == entity_id
        ):
            return campaign_day(account_id, campaign, day)
    return None
