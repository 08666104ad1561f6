"""The insights metrics the emulator knows, as Meta documents them per API version: the
types here, the definitions in the data spec (`data.yaml`: `account_metrics`,
`media_metrics`), where `removed_in` and `sunset` are explained."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from metrics_connect.sandbox.kit.spec import load_named


@dataclass(frozen=True)
class AccountMetric:
    name: str
    title: str
    description: str
    time_series: bool = False  # period=day values, one per day
    total_value: bool = True  # metric_type=total_value
    breakdowns: tuple[str, ...] = ()
    removed_in: int | None = None
    time_series_removed_in: int | None = None
    lifetime: bool = False  # period=lifetime (online_followers, demographics)
    sunset: date | None = None


@dataclass(frozen=True)
class KeptAfterSunset:
    """Media created until `created_until` keep the metric in versions up to this one."""

    through_version: int
    created_until: date


@dataclass(frozen=True)
class MediaMetric:
    name: str
    title: str
    products: frozenset[str]  # FEED, REELS, STORY
    breakdown: str | None = None
    removed_in: int | None = None
    sunset: date | None = None
    kept_after_sunset: KeptAfterSunset | None = None


ACCOUNT_METRICS: dict[str, AccountMetric] = load_named(
    __package__, "data.yaml", "account_metrics", AccountMetric
)
MEDIA_METRICS: dict[str, MediaMetric] = load_named(
    __package__, "data.yaml", "media_metrics", MediaMetric
)
DEMOGRAPHIC_METRICS = frozenset(
    {"follower_demographics", "engaged_audience_demographics", "reached_audience_demographics"}
)
# Since v20.0 demographics accept only these timeframes.
TIMEFRAMES = ("this_week", "this_month")
LEGACY_TIMEFRAMES = ("last_14_days", "last_30_days", "last_90_days", "prev_month")
