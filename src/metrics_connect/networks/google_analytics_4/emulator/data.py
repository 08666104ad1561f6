"""The emulated GA4 property: deterministic visitors, sessions and events, day by day.

Every day (in the property's time zone) is generated from its own seed, so any day can
be produced alone and in any order. Users are real identities across days: a session
belongs either to a new user (created that day) or to a returning user created on an
earlier day, so a period's unique users are the property's own count for that period:
never less than its busiest day and less than the sum of its days.

This module is also the raw truth that tests compute reference figures from
(`PropertyData.sessions`), independently of the report engine in `report.py`.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from metrics_connect.networks.google_analytics_4.emulator.fidelity import FIDELITY
from metrics_connect.sandbox.accounts import GA4_CURRENCY, GA4_PROPERTY_ID, GA4_TIMEZONE
from metrics_connect.sandbox.kit.calendar import days_between
from metrics_connect.sandbox.kit.spec import load_spec

KEY_EVENTS = frozenset({"purchase", "generate_lead"})
# Sparse values: only the fields that are not zero.
Values = dict[str, float]
SPEC = "data.yaml"


def _spec(key: str) -> Any:
    return load_spec(__package__, SPEC, key, Any)


SITE, USERS, CHANNELS = _spec("site"), _spec("users"), _spec("channels")
PAGE_TITLES: dict[str, str] = dict(SITE["pages"])
BROWSE_PAGES = list(PAGE_TITLES)[: len(SITE["browse_weights"])]
BROWSE = dict(zip(BROWSE_PAGES, SITE["browse_weights"], strict=True))
_EXTRA_PAGES_CUM = list(itertools.accumulate(SITE["extra_page_weights"]))
_HOUR_CUM = list(itertools.accumulate(SITE["hour_weights"]))
PRODUCTS: dict[str, tuple[str, float]] = SITE["products"]  # page -> (item name, unit price)
LINKED_ADS: dict[str, Any] = _spec("linked_ads")
LINKED_ADS_CAMPAIGNS: dict[str, list[str]] = LINKED_ADS["campaigns"]


def draw(rng: random.Random, spec: Any) -> Any:
    """A list: one of its values alike; a mapping: one of its keys by weight."""
    if isinstance(spec, list):
        return rng.choice(spec)
    return rng.choices(list(spec), list(spec.values()))[0]


@dataclass(frozen=True)
class Acquisition:
    """A session's (or a user's first) traffic source."""

    channel: str
    source: str = "(not set)"
    medium: str = "(not set)"
    campaign: str = "(not set)"
    platform: str = "(not set)"
    ad_content: str = "(not set)"
    term: str = "(not set)"
    ads_campaign: str = "(not set)"
    ads_keyword: str = "(not set)"
    ads_account: str = "(not set)"
    landing_query: str = ""


def _acquisition(rng: random.Random, returning: bool) -> Acquisition:
    weights = {name: c["weight"][returning] for name, c in CHANNELS.items()}
    channel = draw(rng, weights)
    fields: dict[str, str] = {}
    for name, spec in CHANNELS[channel]["fields"].items():
        if name == "ads_keyword":
            spec = LINKED_ADS_CAMPAIGNS[fields["ads_campaign"]]
        fields[name] = spec.format(**fields) if isinstance(spec, str) else draw(rng, spec)
    query = CHANNELS[channel].get("query", "").format(**fields)
    return Acquisition(channel, **fields, landing_query=query)


@dataclass(frozen=True)
class User:
    user_id: int
    created: date
    first_acquisition: Acquisition
    country: str
    region: str
    city: str
    device: str
    gender: str
    age: str
    buyer_affinity: float


@dataclass
class Hit:
    """Events of one name on one page within a session (GA4 counts each event)."""

    event_name: str
    page_path: str
    values: Values

    @property
    def page_title(self) -> str:
        return PAGE_TITLES.get(self.page_path, "(not set)")

    @property
    def key_event(self) -> str:
        return "true" if self.event_name in KEY_EVENTS else "false"


@dataclass
class ItemLine:
    item_name: str
    values: Values


@dataclass
class Session:
    session_id: int
    day: date
    start_minute: int  # minutes after local midnight
    user: User
    new_user: bool
    engaged: bool
    acquisition: Acquisition
    device: str
    landing_page: str
    hits: list[Hit] = field(default_factory=list)
    items: list[ItemLine] = field(default_factory=list)
    totals: Values = field(default_factory=dict)
    # Session- and user-scoped dimension values, filled on first use by the report engine.
    dims: dict[str, str] | None = None

    @property
    def active(self) -> bool:
        """GA4's active user: an engaged session or a first visit."""
        return self.engaged or self.new_user

    def value(self, name: str) -> float:
        return self.totals.get(name, 0.0)

    @property
    def hour(self) -> int:
        return self.start_minute // 60

    @property
    def new_or_returning(self) -> str:
        return "new" if self.new_user else "returning"

    @property
    def landing_path(self) -> str:
        return self.landing_page.split("?")[0]


@dataclass(frozen=True)
class GoogleAdsRow:
    """Linked Google Ads cost data per day, campaign and keyword."""

    day: date
    campaign: str
    keyword: str
    impressions: int
    clicks: int
    cost: float


@dataclass(frozen=True)
class SearchConsoleRow:
    """Linked Search Console data per day, landing page, country and device."""

    day: date
    landing_page: str
    country: str
    device: str
    impressions: int
    clicks: int
    position_sum: float  # average position * impressions


@dataclass
class Day:
    day: date
    sessions: list[Session]
    linked_ads: list[GoogleAdsRow]
    organic_search: list[SearchConsoleRow]


def clear_data_caches() -> None:
    _user.cache_clear()
    _shared_day.cache_clear()


@lru_cache(maxsize=200_000)
def _user(seed: int, user_id: int) -> User:
    created = date.fromordinal(user_id // 10000)
    rng = random.Random(f"ga4:{seed}:user:{user_id}")
    geo = rng.choices(USERS["geo"], [g[3] for g in USERS["geo"]])[0]
    device = draw(rng, USERS["devices"])
    known = rng.random() < USERS["signals"]  # Google signals: demographics of some users
    gender = draw(rng, USERS["genders"]) if known else "unknown"
    # Every user draws an age bracket (the draws stay in step); only known ones keep it.
    age = draw(rng, USERS["age_brackets"])
    first = _acquisition(rng, returning=False)
    age = age if known else "unknown"
    country, region, city = geo[:3]
    # The last draw: how likely the user is to buy.
    return User(user_id, created, first, country, region, city, device, gender, age, rng.random())


@lru_cache(maxsize=800)
def _shared_day(seed: int, base_sessions: int, day: date) -> Day:
    # Days are immutable functions of their seed: every instance (and test) shares them.
    return PropertyData(seed=seed, base_sessions=base_sessions)._generate(day)


class PropertyData:
    """One GA4 property's raw data, generated lazily and cached by day."""

    def __init__(
        self,
        property_id: str = GA4_PROPERTY_ID,
        timezone: str = GA4_TIMEZONE,
        currency: str = GA4_CURRENCY,
        *,
        seed: int = 4,
        base_sessions: int = 60,
    ) -> None:
        self.property_id = property_id
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        self.currency = currency
        self.seed = seed
        self.base_sessions = base_sessions
        # Where the property's reports stop being exact (tests lower the limits).
        self.fidelity = FIDELITY

    # --- raw truth ---

    def local_now(self, now: datetime) -> datetime:
        return now.astimezone(self.tz)

    def sessions(self, start: date, end: date, now: datetime) -> list[Session]:
        """Sessions that started in [start, end] (local days) before `now`."""
        days = self.visible_days(start, end, now)
        return [s for day in days for s in self.sessions_of_day(day, now)]

    def events(self, start: date, end: date, now: datetime) -> int:
        """Events of the sessions in [start, end] before `now` (the sampling quota's count)."""
        return int(sum(s.value("eventCount") for s in self.sessions(start, end, now)))

    def visible_days(self, start: date, end: date, now: datetime) -> list[date]:
        return days_between(start, min(end, self.local_now(now).date()))

    def sessions_of_day(self, day: date, now: datetime) -> list[Session]:
        local = self.local_now(now)
        if day > local.date():
            return []
        sessions = self.day(day).sessions
        if day < local.date():
            return sessions
        minute = local.hour * 60 + local.minute
        return [s for s in sessions if s.start_minute < minute]

    def linked_ads(self, day: date, now: datetime) -> list[GoogleAdsRow]:
        # Cost data is imported with the day; today's import is pro rata of the hours gone.
        local = self.local_now(now)
        if day > local.date():
            return []
        rows = self.day(day).linked_ads
        if day < local.date():
            return rows
        share = (local.hour * 60 + local.minute) / 1440
        return [
            replace(
                r,
                impressions=int(r.impressions * share),
                clicks=int(r.clicks * share),
                cost=round(r.cost * share, 2),
            )
            for r in rows
        ]

    def organic_search(self, day: date, now: datetime) -> list[SearchConsoleRow]:
        # Search Console data arrives about two days late.
        if day > self.local_now(now).date() - timedelta(days=2):
            return []
        return self.day(day).organic_search

    # --- generation ---

    def day(self, day: date) -> Day:
        return _shared_day(self.seed, self.base_sessions, day)

    def session_count(self, day: date) -> int:
        rng = random.Random(f"ga4:{self.seed}:count:{day.toordinal()}")
        weekday = (1.0, 1.04, 1.02, 0.98, 0.92, 0.72, 0.78)[day.weekday()]
        # Slow growth plus a year-end peak (gifts) and a carnival dip.
        growth = 1.0 + (day.toordinal() - date(2024, 1, 1).toordinal()) / 3650
        season = 1.0 + (0.35 if day.month == 12 else 0.12 if day.month == 11 else 0.0)
        season -= 0.1 if day.month == 2 else 0.0
        noise = rng.gauss(1.0, 0.08)
        return max(20, int(self.base_sessions * weekday * growth * season * noise))

    def new_user_count(self, day: date) -> int:
        return int(self.session_count(day) * 0.56)

    def user(self, user_id: int) -> User:
        return _user(self.seed, user_id)

    def _returning_user(self, rng: random.Random, day: date) -> User | None:
        back = min(240, 1 + int(rng.expovariate(1 / 18)))
        created = day - timedelta(days=back)
        count = self.new_user_count(created)
        if count <= 0:
            return None
        return self.user(created.toordinal() * 10000 + rng.randrange(count))

    def _generate(self, day: date) -> Day:
        rng = random.Random(f"ga4:{self.seed}:day:{day.toordinal()}")
        total = self.session_count(day)
        new_count = self.new_user_count(day)
        sessions: list[Session] = []
        for index in range(total):
            if index < new_count:
                user = self.user(day.toordinal() * 10000 + index)
                new_user = True
            else:
                returning = self._returning_user(rng, day)
                if returning is None:
                    continue
                user, new_user = returning, False
            sessions.append(self._session(rng, day, len(sessions), user, new_user))
        sessions.sort(key=lambda s: (s.start_minute, s.session_id))
        return Day(
            day,
            sessions,
            self._linked_ads(rng, day, sessions),
            self._search_console(rng, day, sessions),
        )

    def _session(
        self, rng: random.Random, day: date, index: int, user: User, new_user: bool
    ) -> Session:
        acquisition = user.first_acquisition if new_user else _acquisition(rng, returning=True)
        device = user.device if rng.random() < 0.85 else rng.choice(["mobile", "desktop"])
        # Traffic peaks around lunch and evening (local time).
        hour = rng.choices(range(24), cum_weights=_HOUR_CUM)[0]
        start_minute = hour * 60 + rng.randrange(60)
        engaged_p = CHANNELS[acquisition.channel]["engaged"]
        engaged_p += 0.06 if device == "desktop" else 0.0
        engaged = rng.random() < engaged_p
        landing = draw(rng, CHANNELS[acquisition.channel].get("landing", BROWSE))
        session = Session(
            session_id=day.toordinal() * 100000 + index,
            day=day,
            start_minute=start_minute,
            user=user,
            new_user=new_user,
            engaged=engaged,
            acquisition=acquisition,
            device=device,
            landing_page=landing + acquisition.landing_query,
        )
        self._events(rng, session)
        return session

    def _events(self, rng: random.Random, s: Session) -> None:
        hits: dict[tuple[str, str], Values] = {}

        def add(event: str, page: str, count: int = 1, **values: float) -> None:
            vec = hits.get((event, page))
            if vec is None:
                vec = hits[(event, page)] = {}
            vec["eventCount"] = vec.get("eventCount", 0) + count
            if event == "page_view":
                vec["screenPageViews"] = vec.get("screenPageViews", 0) + count
            elif event in KEY_EVENTS:
                vec["keyEvents"] = vec.get("keyEvents", 0) + count
            for name, value in values.items():
                vec[name] = vec.get(name, 0) + value

        landing = s.landing_path
        pages = [landing]
        if s.engaged:
            extra = rng.choices(range(1, 8), cum_weights=_EXTRA_PAGES_CUM)[0]
            pages.extend(rng.choices(BROWSE_PAGES, list(BROWSE.values()), k=extra))
        add("session_start", landing)
        if s.new_user:
            add("first_visit", landing)
        duration = 0.0
        viewed: list[str] = []
        for page in pages:
            add("page_view", page)
            seconds = rng.uniform(12, 140) if s.engaged else rng.uniform(0, 8)
            duration += seconds + rng.uniform(1, 20)
            if seconds >= 1:
                add("user_engagement", page, userEngagementDuration=round(seconds))
            if s.engaged and rng.random() < 0.55:
                add("scroll", page)
            if page in PRODUCTS:
                viewed.append(page)
                add("view_item", page, itemViewEvents=1)
            elif page.startswith("/blog/"):
                impressions = rng.randint(1, 3)
                revenue = round(impressions * rng.uniform(0.008, 0.03), 4)
                add(
                    "ad_impression", page, impressions, totalAdRevenue=revenue, totalRevenue=revenue
                )
        items: dict[str, Values] = {}
        for path in viewed:
            line = items.setdefault(path, {})
            line["itemsViewed"] = line.get("itemsViewed", 0) + 1
        if s.engaged and rng.random() < 0.035:
            add("generate_lead", "/contact" if rng.random() < 0.4 else landing, eventValue=10.0)
        affinity = s.user.buyer_affinity
        cart = [p for p in items if rng.random() < 0.03 + 0.09 * affinity]
        if cart:
            for path in cart:
                quantity = rng.choices([1, 2, 3], [75, 20, 5])[0]
                add("add_to_cart", path, addToCarts=1)
                items[path]["itemsAddedToCart"] = quantity
            add("page_view", "/cart")
            if rng.random() < 0.5:
                add("page_view", "/checkout")
                add("begin_checkout", "/checkout", checkouts=1)
                if rng.random() < 0.45 + 0.25 * affinity:
                    self._purchase(rng, s, cart, items, add)
        totals: Values = {"sessionDuration": round(duration)}
        for (event, page), vec in hits.items():
            s.hits.append(Hit(event, page, vec))
            for name, value in vec.items():
                totals[name] = totals.get(name, 0) + value
        s.hits[0].values["sessionDuration"] = round(duration)
        for path, line in items.items():
            s.items.append(ItemLine(PRODUCTS[path][0], line))
            for name, value in line.items():
                totals[name] = totals.get(name, 0) + value
        s.totals = totals

    def _purchase(
        self,
        rng: random.Random,
        s: Session,
        cart: list[str],
        items: dict[str, Values],
        add: Callable[..., None],
    ) -> None:
        revenue = 0.0
        for path in cart:
            line = items[path]
            quantity = line["itemsAddedToCart"]
            line["itemsPurchased"] = quantity
            line["itemRevenue"] = round(quantity * PRODUCTS[path][1], 2)
            revenue += line["itemRevenue"]
        revenue = round(revenue + (0.0 if revenue >= 199 else 19.90), 2)  # shipping
        refund = revenue if rng.random() < 0.03 else 0.0
        first = 1 if (s.new_user or rng.random() < 0.25) else 0
        add("page_view", "/checkout/thank-you")
        add(
            "purchase",
            "/checkout/thank-you",
            eventValue=revenue,
            purchaseRevenue=revenue - refund,
            grossPurchaseRevenue=revenue,
            refundAmount=refund,
            totalRevenue=revenue - refund,
            transactions=1,
            ecommercePurchases=1,
            firstPurchases=first,
        )

    def _linked_ads(
        self, rng: random.Random, day: date, sessions: list[Session]
    ) -> list[GoogleAdsRow]:
        paid = Counter(
            (s.acquisition.ads_campaign, s.acquisition.ads_keyword)
            for s in sessions
            if s.acquisition.channel == "Paid Search"
        )
        rows = []
        for campaign, keywords in LINKED_ADS_CAMPAIGNS.items():
            cpc = LINKED_ADS["cpc"][campaign]
            for keyword in keywords:
                visits = paid.get((campaign, keyword), 0)
                # Some ad clicks never become sessions (bounced before the tag fired).
                clicks = visits + int(visits * rng.uniform(0.04, 0.15))
                impressions = int(clicks / rng.uniform(0.03, 0.09)) + rng.randint(5, 40)
                cost = round(clicks * cpc * rng.uniform(0.8, 1.2), 2)
                rows.append(GoogleAdsRow(day, campaign, keyword, impressions, clicks, cost))
        return rows

    def _search_console(
        self, rng: random.Random, day: date, sessions: list[Session]
    ) -> list[SearchConsoleRow]:
        clicks = Counter(
            (s.landing_page, s.user.country, s.device)
            for s in sessions
            if s.acquisition.channel == "Organic Search" and s.acquisition.source == "google"
        )
        rows = []
        for (page, country, device), n in sorted(clicks.items()):
            impressions = int(n / rng.uniform(0.02, 0.08)) + rng.randint(3, 30)
            position = rng.uniform(2.0, 14.0)
            rows.append(
                SearchConsoleRow(
                    day, page, country, device, impressions, n, round(position * impressions, 2)
                )
            )
        return rows
