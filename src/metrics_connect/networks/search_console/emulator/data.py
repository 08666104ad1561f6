"""The emulated properties' search traffic, from data.yaml.

A day's traffic of a property and search type is a list of cells, one per (query,
page, country, device): impressions, clicks and the sum of the positions of its
impressions. Every number is drawn from (property, type, day) alone, so a day never
depends on which other days were asked. Queries Google anonymizes are cells with an
empty query: counted in totals, never listed by query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from metrics_connect.sandbox.accounts import GOOGLE_SITES
from metrics_connect.sandbox.kit.seeded import DailySeries, apportion, draws
from metrics_connect.sandbox.kit.spec import load_spec

SPEC = "data.yaml"
# Types whose reports have neither queries nor positions (Discover, Google News).
NO_QUERY_TYPES = frozenset({"discover", "googleNews"})
ANONYMIZED_POSITION = 14.0
DISCOVER_POSITION = 3.0


@dataclass(frozen=True)
class SiteEntry:
    site_url: str
    permission: str
    traffic: str | None  # None: a property without search traffic


@dataclass(frozen=True)
class Traffic:
    origin: str
    start: date
    level: float
    trend_per_day: float
    weekly: tuple[float, float, float, float, float, float, float]
    yearly_amplitude: float
    anonymized_share: float
    # [query, weight, base position, landing page, second page or None]
    queries: tuple[tuple[str, float, float, str, str | None], ...]


@dataclass(frozen=True)
class Cell:
    query: str  # "" for anonymized queries
    page: str
    country: str
    device: str
    impressions: int
    clicks: int
    position_sum: float  # sum of the positions of the impressions (0 where none)


_SITE_TRAFFIC: dict[str, str] = load_spec(__package__, SPEC, "sites", dict[str, str])
SITES = tuple(SiteEntry(url, level, _SITE_TRAFFIC.get(url)) for url, level in GOOGLE_SITES)
TRAFFIC: dict[str, Traffic] = load_spec(__package__, SPEC, "traffic", dict[str, Traffic])
SEARCH_TYPES: dict[str, float] = load_spec(__package__, SPEC, "search_types", dict[str, float])
COUNTRIES: dict[str, tuple[float, float]] = load_spec(
    __package__, SPEC, "countries", dict[str, tuple[float, float]]
)
DEVICES: dict[str, tuple[float, float]] = load_spec(
    __package__, SPEC, "devices", dict[str, tuple[float, float]]
)
WEEKEND_GENERIC_FROM: float = load_spec(__package__, SPEC, "weekend_generic_from", float)
WEEKEND_GENERIC_FACTOR: float = load_spec(__package__, SPEC, "weekend_generic_factor", float)
CTR_AT_1: float = load_spec(__package__, SPEC, "ctr_at_1", float)
CTR_DECAY: float = load_spec(__package__, SPEC, "ctr_decay", float)
APPEARANCES: dict[str, tuple[str, ...]] = load_spec(
    __package__, SPEC, "appearances", dict[str, tuple[str, ...]]
)
ALL_APPEARANCES: tuple[str, ...] = tuple(sorted({a for v in APPEARANCES.values() for a in v}))


def site(site_url: str) -> SiteEntry | None:
    return next((s for s in SITES if s.site_url == site_url), None)


def expected_ctr(position: float) -> float:
    return float(CTR_AT_1 * position**-CTR_DECAY)


def appearances_of(page: str, origin: str) -> tuple[str, ...]:
    path = page.removeprefix(origin)
    return next((v for prefix, v in APPEARANCES.items() if path.startswith(prefix)), ())


def series(name: str, search_type: str) -> DailySeries:
    traffic = TRAFFIC[name]
    share = SEARCH_TYPES[search_type]
    return DailySeries(
        start=traffic.start,
        level=traffic.level * share,
        trend_per_day=traffic.trend_per_day * share,
        weekly=traffic.weekly,
        yearly_amplitude=traffic.yearly_amplitude,
        noise_low=0.9,
        noise_high=1.1,
        key=("search_console", name, search_type),
    )


@lru_cache(maxsize=8192)
def day_cells(name: str, search_type: str, day: date) -> tuple[Cell, ...]:
    """The traffic of one property, search type and Pacific-time day."""
    traffic = TRAFFIC[name]
    total = series(name, search_type).value(day)
    if total <= 0:
        return ()
    rng = draws("search_console", name, search_type, day)
    no_query = search_type in NO_QUERY_TYPES
    weekend = day.weekday() >= 5
    weights = [
        q[1]
        * rng.uniform(0.8, 1.2)
        * (WEEKEND_GENERIC_FACTOR if weekend and q[2] > WEEKEND_GENERIC_FROM else 1.0)
        for q in traffic.queries
    ]
    share = traffic.anonymized_share
    anonymized = sum(weights) * share / (1 - share)
    per_query = apportion(total, [*weights, anonymized])
    grid = [(c, d) for c in COUNTRIES for d in DEVICES]
    cells: list[Cell] = []
    queries = [*traffic.queries, ("", 0.0, ANONYMIZED_POSITION, "/", None)]
    for (query, _, base, page, second), impressions in zip(queries, per_query, strict=True):
        pages = [page] if second is None else [page, second]
        shares = [0.8, 0.2][: len(pages)]
        for path, page_impressions in zip(pages, apportion(impressions, shares), strict=True):
            spread = [COUNTRIES[c][0] * DEVICES[d][0] * rng.uniform(0.7, 1.3) for c, d in grid]
            for (country, device), n in zip(grid, apportion(page_impressions, spread), strict=True):
                if n == 0:
                    continue
                if no_query:
                    position = DISCOVER_POSITION
                else:
                    factor = COUNTRIES[country][1] * DEVICES[device][1]
                    position = max(1.0, round(base * factor * rng.uniform(0.88, 1.12), 2))
                clicks = min(n, round(n * expected_ctr(position) * rng.uniform(0.8, 1.2)))
                cells.append(
                    Cell(
                        query="" if no_query else query,
                        page=traffic.origin + path,
                        country=country,
                        device=device,
                        impressions=n,
                        clicks=clicks,
                        position_sum=0.0 if no_query else position * n,
                    )
                )
    return tuple(cells)
