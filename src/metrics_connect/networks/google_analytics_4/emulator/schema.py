"""The dimensions and metrics the emulated Data API knows (GA4 API names and semantics).

Scopes follow GA4: session/user dimensions apply to every fact; event-scoped dimensions
(eventName, pagePath, pageTitle) split sessions into their events; the item-scoped
dimension itemName splits them into purchased/viewed items and is compatible only with
item-scoped metrics. Google Ads and Search Console metrics come from the linked
products and are compatible only with the dimensions those products know.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from metrics_connect.networks.google_analytics_4.emulator.data import (
    KEY_EVENTS,
    PAGE_TITLES,
    Hit,
    ItemLine,
    Session,
)
from metrics_connect.sandbox.kit.spec import load_spec

Scope = Literal["session", "event", "item", "date"]
MetricType = Literal["TYPE_INTEGER", "TYPE_FLOAT", "TYPE_SECONDS", "TYPE_CURRENCY"]
Getter = Callable[[Session, Hit | None, ItemLine | None], str]


@dataclass(frozen=True)
class DimensionDef:
    name: str
    ui_name: str
    scope: Scope
    get: Getter


def _s(fn: Callable[[Session], str]) -> Getter:
    return lambda s, h, i: fn(s)


def _event_name(s: Session, h: Hit | None, i: ItemLine | None) -> str:
    return h.event_name if h is not None else "(not set)"


def _page_path(s: Session, h: Hit | None, i: ItemLine | None) -> str:
    return h.page_path if h is not None else "(not set)"


def _page_title(s: Session, h: Hit | None, i: ItemLine | None) -> str:
    return PAGE_TITLES.get(h.page_path, "(not set)") if h is not None else "(not set)"


def _is_key_event(s: Session, h: Hit | None, i: ItemLine | None) -> str:
    return "true" if h is not None and h.event_name in KEY_EVENTS else "false"


def _item_name(s: Session, h: Hit | None, i: ItemLine | None) -> str:
    return i.item_name if i is not None else "(not set)"


_SESSION_DIMENSIONS: dict[str, tuple[str, Callable[[Session], str]]] = {
    "date": ("Date", lambda s: s.day.strftime("%Y%m%d")),
    "dayOfWeek": ("Day of week", lambda s: str((s.day.weekday() + 1) % 7)),
    "yearMonth": ("Year month", lambda s: s.day.strftime("%Y%m")),
    "hour": ("Hour", lambda s: f"{s.start_minute // 60:02d}"),
    "sessionDefaultChannelGroup": (
        "Session default channel group",
        lambda s: s.acquisition.channel,
    ),
    "sessionSource": ("Session source", lambda s: s.acquisition.source),
    "sessionMedium": ("Session medium", lambda s: s.acquisition.medium),
    "sessionSourceMedium": (
        "Session source / medium",
        lambda s: f"{s.acquisition.source} / {s.acquisition.medium}",
    ),
    "sessionCampaignName": ("Session campaign", lambda s: s.acquisition.campaign),
    "sessionSourcePlatform": ("Session source platform", lambda s: s.acquisition.platform),
    "sessionManualAdContent": ("Session manual ad content", lambda s: s.acquisition.ad_content),
    "sessionManualTerm": ("Session manual term", lambda s: s.acquisition.term),
    "sessionGoogleAdsAccountName": (
        "Session Google Ads account",
        lambda s: s.acquisition.ads_account,
    ),
    "googleAdsCampaignName": ("Google Ads campaign", lambda s: s.acquisition.ads_campaign),
    "googleAdsKeyword": ("Google Ads keyword text", lambda s: s.acquisition.ads_keyword),
    # Event-scoped attribution; in this property every event keeps its session's source.
    "source": ("Source", lambda s: s.acquisition.source),
    "medium": ("Medium", lambda s: s.acquisition.medium),
    "sourceMedium": (
        "Source / medium",
        lambda s: f"{s.acquisition.source} / {s.acquisition.medium}",
    ),
    "campaignName": ("Campaign", lambda s: s.acquisition.campaign),
    "manualAdContent": ("Manual ad content", lambda s: s.acquisition.ad_content),
    "manualTerm": ("Manual term", lambda s: s.acquisition.term),
    "defaultChannelGroup": ("Default channel group", lambda s: s.acquisition.channel),
    "firstUserDefaultChannelGroup": (
        "First user default channel group",
        lambda s: s.user.first_acquisition.channel,
    ),
    "firstUserSource": ("First user source", lambda s: s.user.first_acquisition.source),
    "firstUserMedium": ("First user medium", lambda s: s.user.first_acquisition.medium),
    "firstUserSourceMedium": (
        "First user source / medium",
        lambda s: f"{s.user.first_acquisition.source} / {s.user.first_acquisition.medium}",
    ),
    "firstUserCampaignName": ("First user campaign", lambda s: s.user.first_acquisition.campaign),
    "firstUserManualTerm": ("First user manual term", lambda s: s.user.first_acquisition.term),
    "firstUserManualAdContent": (
        "First user manual ad content",
        lambda s: s.user.first_acquisition.ad_content,
    ),
    "deviceCategory": ("Device category", lambda s: s.device),
    "country": ("Country", lambda s: s.user.country),
    "region": ("Region", lambda s: s.user.region),
    "city": ("City", lambda s: s.user.city),
    "userGender": ("Gender", lambda s: s.user.gender),
    "userAgeBracket": ("Age", lambda s: s.user.age),
    "newVsReturning": ("New / returning", lambda s: "new" if s.new_user else "returning"),
    "landingPage": ("Landing page", lambda s: s.landing_page.split("?")[0]),
    "landingPagePlusQueryString": ("Landing page + query string", lambda s: s.landing_page),
}


def session_dimensions(s: Session) -> dict[str, str]:
    """Every session-scoped dimension value of a session (computed once, then kept)."""
    if s.dims is None:
        s.dims = {name: fn(s) for name, (_, fn) in _SESSION_DIMENSIONS.items()}
    return s.dims


DIMENSIONS: dict[str, DimensionDef] = {
    name: DimensionDef(name, ui, "date" if name == "date" else "session", _s(fn))
    for name, (ui, fn) in _SESSION_DIMENSIONS.items()
}
DIMENSIONS["eventName"] = DimensionDef("eventName", "Event name", "event", _event_name)
DIMENSIONS["pagePath"] = DimensionDef("pagePath", "Page path", "event", _page_path)
DIMENSIONS["pageTitle"] = DimensionDef("pageTitle", "Page title", "event", _page_title)
DIMENSIONS["isKeyEvent"] = DimensionDef("isKeyEvent", "Is key event", "event", _is_key_event)
DIMENSIONS["itemName"] = DimensionDef("itemName", "Item name", "item", _item_name)

# Dimensions the linked products know (besides date and dateRange).
GOOGLE_ADS_DIMENSIONS = frozenset(
    {
        "googleAdsCampaignName",
        "googleAdsKeyword",
        "sessionGoogleAdsAccountName",
        "sessionCampaignName",
        "sessionSource",
        "sessionMedium",
        "sessionSourceMedium",
        "sessionSourcePlatform",
        "sessionDefaultChannelGroup",
        "campaignName",
        "source",
        "medium",
        "sourceMedium",
        "defaultChannelGroup",
    }
)
SEARCH_CONSOLE_DIMENSIONS = frozenset({"landingPagePlusQueryString", "country", "deviceCategory"})


MetricSource = Literal["fact", "ads", "search", "item", "mixed"]


@dataclass(frozen=True)
class MetricDef:
    name: str
    ui_name: str
    type: MetricType
    # "fact": from GA4 events/sessions; "ads": linked Google Ads; "search": Search Console;
    # "item": item-scoped facts (also answered from session totals without itemName).
    source: MetricSource = "fact"


# Metric name -> [UI name, type, source (default fact)] in the data spec.
_METRIC_ROWS = load_spec(
    __package__,
    "data.yaml",
    "metrics",
    dict[str, tuple[str, MetricType] | tuple[str, MetricType, MetricSource]],
)
METRICS: dict[str, MetricDef] = {name: MetricDef(name, *row) for name, row in _METRIC_ROWS.items()}
