"""The sandbox ad account's structure: campaigns, ad sets and ads (Marketing API objects).

Fixed dates so that the data of a day never depends on when the emulator runs; the
campaigns still running have no stop date, so "the last 90 days" always has data.
"""

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

ACCOUNT_NUMERIC_ID = AD_ACCOUNT_ID.removeprefix("act_")
BUSINESS_ID = "30000000000000001"


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    objective: str
    start: date
    stop: date | None
    status: str = "ACTIVE"
    buying_type: str = "AUCTION"

    @property
    def lifetime(self) -> Lifetime:
        return Lifetime(self.start, self.stop)


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
    end: date | None
    status: str = "ACTIVE"

    @property
    def lifetime(self) -> Lifetime:
        return Lifetime(self.start, self.end)


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

CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign("120200000000000101", "Tráfego - Site Cafés Especiais", "OUTCOME_TRAFFIC",
             date(2024, 1, 8), None),
    Campaign("120200000000000102", "Engajamento - Instagram Reels", "OUTCOME_ENGAGEMENT",
             date(2024, 3, 1), None),
    Campaign("120200000000000103", "Leads - Assinatura Mensal", "OUTCOME_LEADS",
             date(2025, 6, 1), None),
    Campaign("120200000000000104", "Vendas - Black Friday 2024", "OUTCOME_SALES",
             date(2024, 10, 20), date(2024, 12, 2), status="PAUSED"),
    Campaign("120200000000000105", "Vendas - Loja Online", "OUTCOME_SALES",
             date(2025, 2, 3), None),
)  # fmt: skip

ADSETS: tuple[AdSet, ...] = (
    AdSet("120200000000000201", "120200000000000101", "SP Capital 25-44",
          "LANDING_PAGE_VIEWS", "landing_page_view", 25, 44, (), date(2024, 1, 8), None),
    AdSet("120200000000000202", "120200000000000101", "Brasil Amplo 18-65",
          "LINK_CLICKS", "link_click", 18, 65, (), date(2024, 1, 8), None),
    AdSet("120200000000000203", "120200000000000102", "Amantes de café",
          "POST_ENGAGEMENT", "post_engagement", 18, 54, (), date(2024, 3, 1), None),
    AdSet("120200000000000204", "120200000000000102", "Conversas Direct",
          "CONVERSATIONS", "onsite_conversion.messaging_conversation_started_7d",
          21, 60, (2,), date(2024, 3, 1), None),
    AdSet("120200000000000205", "120200000000000103", "Formulário instantâneo",
          "LEAD_GENERATION", "onsite_conversion.lead_grouped", 25, 60, (),
          date(2025, 6, 1), None),
    AdSet("120200000000000206", "120200000000000104", "Remarketing 30d",
          "OFFSITE_CONVERSIONS", "offsite_conversion.fb_pixel_purchase", 18, 65, (),
          date(2024, 10, 20), date(2024, 12, 2), status="PAUSED"),
    AdSet("120200000000000207", "120200000000000105", "Advantage+ Catálogo",
          "OFFSITE_CONVERSIONS", "offsite_conversion.fb_pixel_purchase", 18, 65, (),
          date(2025, 2, 3), None),
    AdSet("120200000000000208", "120200000000000105", "Lookalike compradores 1%",
          "OFFSITE_CONVERSIONS", "offsite_conversion.fb_pixel_purchase", 25, 55, (),
          date(2025, 2, 3), None),
)  # fmt: skip


def _utm(campaign: str, content: str) -> str:
    return (
        f"utm_source=facebook&utm_medium=paid_social&utm_campaign={campaign}"
        f"&utm_content={content}&utm_term={{{{adset.name}}}}"
    )


ADS: tuple[Ad, ...] = (
    Ad("120200000000000301", "120200000000000201", "120200000000000101", "Vídeo barista 15s",
       "VIDEO", "https://acmecoffee.com.br/cafes?utm_source=meta&utm_medium=cpc&utm_campaign=cafes",
       _utm("trafego_site", "video_barista"),
       9_000, 1_850, 16, "ABOVE_AVERAGE", "AVERAGE", "AVERAGE"),
    Ad("120200000000000303", "120200000000000202", "120200000000000101", "Imagem promo frete",
       "IMAGE", "https://acmecoffee.com.br/frete", _utm("trafego_site", "promo_frete"),
       4_000, 1_200, 11, "AVERAGE", "BELOW_AVERAGE_35", "AVERAGE"),
    Ad("120200000000000304", "120200000000000203", "120200000000000102", "Reels latte art",
       "VIDEO", "https://instagram.com/acmecoffee", _utm("engajamento", "reels_latte"),
       5_500, 900, 9, "ABOVE_AVERAGE", "ABOVE_AVERAGE", "UNKNOWN"),
    Ad("120200000000000306", "120200000000000204", "120200000000000102", "Fale com a gente",
       "IMAGE", "https://m.me/acmecoffee", _utm("engajamento", "direct"),
       3_500, 1_400, 10, "AVERAGE", "ABOVE_AVERAGE", "AVERAGE"),
    Ad("120200000000000307", "120200000000000205", "120200000000000103", "Assine e ganhe",
       "VIDEO", "https://acmecoffee.com.br/assinatura", _utm("leads", "assine_video"),
       7_000, 2_200, 12, "AVERAGE", "AVERAGE", "ABOVE_AVERAGE"),
    Ad("120200000000000308", "120200000000000205", "120200000000000103", "Cupom primeira caixa",
       "IMAGE", "https://acmecoffee.com.br/assinatura", _utm("leads", "cupom"),
       4_500, 2_000, 10, "BELOW_AVERAGE_20", "AVERAGE", "AVERAGE"),
    Ad("120200000000000309", "120200000000000206", "120200000000000104", "Black Friday -40%",
       "IMAGE", "https://acmecoffee.com.br/black-friday", _utm("black_friday", "bf40"),
       25_000, 3_100, 19, "ABOVE_AVERAGE", "AVERAGE", "ABOVE_AVERAGE"),
    Ad("120200000000000310", "120200000000000207", "120200000000000105", "Catálogo dinâmico",
       "CAROUSEL", "https://acmecoffee.com.br/loja", _utm("vendas_loja", "catalogo"),
       12_000, 2_600, 14, "AVERAGE", "AVERAGE", "ABOVE_AVERAGE"),
    Ad("120200000000000311", "120200000000000208", "120200000000000105", "Vídeo moagem",
       "VIDEO", "https://acmecoffee.com.br/loja", _utm("vendas_loja", "video_moagem"),
       8_000, 2_400, 12, "AVERAGE", "ABOVE_AVERAGE", "AVERAGE"),
)  # fmt: skip

CAMPAIGNS_BY_ID = {c.id: c for c in CAMPAIGNS}
ADSETS_BY_ID = {s.id: s for s in ADSETS}
ADS_BY_ID = {a.id: a for a in ADS}


# An ad delivers on a day when its campaign and ad set both run that day.
AD_LIFETIMES = {
    a.id: CAMPAIGNS_BY_ID[a.campaign_id].lifetime.overlap(ADSETS_BY_ID[a.adset_id].lifetime)
    for a in ADS
}


def ad_active_on(ad: Ad, day: date) -> bool:
    return AD_LIFETIMES[ad.id].active_on(day)
