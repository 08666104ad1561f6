"""The sandbox ad account's structure: campaigns, ad sets and ads (Marketing API objects),
their types here and their values in the data spec (`data.yaml`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from metrics_connect.sandbox.accounts import (
    AD_ACCOUNT_CURRENCY,
    AD_ACCOUNT_ID,
    AD_ACCOUNT_NAME,
    AD_ACCOUNT_TIMEZONE,
)
from metrics_connect.sandbox.kit.seeded import Lifetime
from metrics_connect.sandbox.kit.spec import load_spec

ACCOUNT_NUMERIC_ID = AD_ACCOUNT_ID.removeprefix("act_")
BUSINESS_ID = "30000000000000001"


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    objective: str
    start: date
    stop: date | None = None
    status: str = "ACTIVE"
    buying_type: str = "AUCTION"


@dataclass(frozen=True)
class AdSet:
    id: str
    campaign_id: str
    name: str
    optimization_goal: str
    # The action type Meta counts as this ad set's "result" (from the optimization goal).
    result_action: str
    age_min: int
    age_max: int
    genders: tuple[int, ...]  # 1 male, 2 female; empty: all
    start: date
    end: date | None = None
    status: str = "ACTIVE"


@dataclass(frozen=True)
class Ad:
    id: str
    adset_id: str
    campaign_id: str
    name: str
    media_type: str  # VIDEO | IMAGE | CAROUSEL
    link: str
    url_tags: str
    daily_spend_cents: int  # mean daily spend
    cpm_cents: int  # mean cost per 1,000 impressions
    ctr_permille: int  # mean clicks per 1,000 impressions
    quality_ranking: str
    engagement_rate_ranking: str
    conversion_rate_ranking: str
    status: str = "ACTIVE"
    labels: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Account:
    id: str = AD_ACCOUNT_ID
    account_id: str = ACCOUNT_NUMERIC_ID
    name: str = AD_ACCOUNT_NAME
    currency: str = AD_ACCOUNT_CURRENCY
    timezone_name: str = AD_ACCOUNT_TIMEZONE
    timezone_offset_hours_utc: int = -3
    business_id: str = BUSINESS_ID
    business_name: str = "Acme Coffee Ltda"
    account_status: int = 1
    spend_cap_cents: int = 50_000_000  # R$ 500,000.00 lifetime cap
    balance_cents: int = 184_512  # billed but unpaid
    created_time: str = "2023-11-02T10:14:31-0300"


ACCOUNT = Account()
SPEC = "data.yaml"

CAMPAIGNS: tuple[Campaign, ...] = load_spec(
    __package__, "data.yaml", "campaigns", tuple[Campaign, ...]
)
ADSETS: tuple[AdSet, ...] = load_spec(__package__, "data.yaml", "adsets", tuple[AdSet, ...])
ADS: tuple[Ad, ...] = load_spec(__package__, "data.yaml", "ads", tuple[Ad, ...])
CAMPAIGNS_BY_ID = {c.id: c for c in CAMPAIGNS}
ADSETS_BY_ID = {s.id: s for s in ADSETS}
ADS_BY_ID = {a.id: a for a in ADS}


# An ad delivers on a day when its campaign and ad set both run that day.
AD_LIFETIMES = {
    a.id: Lifetime(
        CAMPAIGNS_BY_ID[a.campaign_id].start, CAMPAIGNS_BY_ID[a.campaign_id].stop
    ).overlap(Lifetime(ADSETS_BY_ID[a.adset_id].start, ADSETS_BY_ID[a.adset_id].end))
    for a in ADS
}
