"""Day arithmetic in the account's time zone: request windows and the days of answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# "There cannot be more than 30 days (2592000 s) between since and until."
MAX_WINDOW_SECONDS = 30 * 86400


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def window(start: date, end: date, tz: ZoneInfo) -> tuple[int, int]:
    """since/until (unix seconds) covering the local days start..end inclusive."""
    return unix(local_midnight(start, tz)), unix(local_midnight(end + timedelta(days=1), tz))


def chunks(start: date, end: date, max_days: int, tz: ZoneInfo) -> list[tuple[date, date]]:
    """start..end split into windows of at most `max_days` local days, each within the
    documented 30-day since/until span (a DST day can make 30 local days a bit longer)."""
    out: list[tuple[date, date]] = []
    cursor = start
    while cursor <= end:
        last = min(end, cursor + timedelta(days=max_days - 1))
        while last > cursor:
            since, until = window(cursor, last, tz)
            if until - since <= MAX_WINDOW_SECONDS:
                break
            last -= timedelta(days=1)
        out.append((cursor, last))
        cursor = last + timedelta(days=1)
    return out


def parse_graph_time(value: str) -> datetime:
    """Graph timestamps: ISO 8601 with a +0000 offset ("2024-01-02T08:00:00+0000")."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def day_ending_at(end_time: str, tz: ZoneInfo) -> date:
    """The local day whose value a time-series point with this `end_time` carries."""
    return (parse_graph_time(end_time) - timedelta(seconds=1)).astimezone(tz).date()


def local_day(timestamp: str, tz: ZoneInfo) -> date:
    return parse_graph_time(timestamp).astimezone(tz).date()
