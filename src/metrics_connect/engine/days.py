"""Day rules: which day it is for an account, which days a network still serves, and
which have settled (the network will not restate them)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from metrics_connect.connectors.base import DatasetSpec


def account_today(instant: datetime, timezone: str) -> date:
    """The account's current day: the network counts days in the account's time zone."""
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return instant.astimezone(zone).date()


def is_settled(spec: DatasetSpec, day: date, today: date) -> bool:
    """A day is settled once `settle_after_days` whole days have passed since it ended."""
    return (today - day).days - 1 >= spec.settle_after_days


def live_since(spec: DatasetSpec, today: date) -> date | None:
    """The oldest day the network still serves (None: no limit)."""
    if spec.live_days is None:
        return None
    return today - timedelta(days=spec.live_days - 1)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
