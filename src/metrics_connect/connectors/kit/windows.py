"""A request's days as the windows of its calls, in the account's time zone.

One place for what each connector used to do by hand: split [start, end] at the
network's largest span (in days, and in seconds where a DST day counts), clip to the
days the network still serves, and encode a window's bounds as the network wants them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from metrics_connect.connectors.kit.spec import Window

DAY = timedelta(days=1)


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def moment(text: str) -> datetime:
    """An ISO 8601 timestamp ("...Z", "...+0000", "...+00:00"); naive ones are UTC."""
    parsed = datetime.fromisoformat(text.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def unix_bounds(start: date, end: date, tz: ZoneInfo) -> tuple[int, int]:
    """Unix seconds of the local midnights that open `start` and close `end`."""
    since = local_midnight(start, tz).timestamp()
    until = local_midnight(end + DAY, tz).timestamp()
    return int(since), int(until)


def split(
    start: date, end: date, max_days: int | None, tz: ZoneInfo, max_seconds: int | None = None
) -> list[tuple[date, date]]:
    """start..end in windows of at most `max_days` local days and `max_seconds`."""
    if start > end:
        return []
    if max_days is None and max_seconds is None:
        return [(start, end)]
    out: list[tuple[date, date]] = []
    cursor = start
    while cursor <= end:
        last = min(end, cursor + timedelta(days=(max_days or (end - start).days + 1) - 1))
        while max_seconds is not None and last > cursor:
            since, until = unix_bounds(cursor, last, tz)
            if until - since <= max_seconds:
                break
            last -= DAY
        out.append((cursor, last))
        cursor = last + DAY
    return out


def served(start: date, end: date, window: Window, today: date) -> tuple[date, date]:
    """The part of start..end the network still serves (may be empty: start > end)."""
    if window.serves_last_days is not None:
        start = max(start, today - timedelta(days=window.serves_last_days))
    if window.until == "yesterday":
        end = min(end, today - DAY)
    if window.until_days_ago is not None:
        end = min(end, today - timedelta(days=window.until_days_ago))
    return start, end


def windows(
    start: date, end: date, window: Window, tz: ZoneInfo, today: date
) -> list[tuple[date, date]]:
    """The windows of a requester's calls for the request's days."""
    if window.now_only:
        return [(today, today)] if start <= today <= end else []
    first, last = served(start, end, window, today)
    return split(first, last, window.max_days, tz, window.max_seconds)


def bounds(first: date, last: date, window: Window, tz: ZoneInfo) -> dict[str, str]:
    """Template variables of a window: {since}/{until} in the window's encoding,
    {start}/{end} as ISO days."""
    out = {"start": first.isoformat(), "end": last.isoformat()}
    if window.encoding == "unix_local_midnight":
        since, until = unix_bounds(first, last, tz)
        out |= {"since": str(since), "until": str(until)}
    else:
        out |= {"since": first.isoformat(), "until": last.isoformat()}
    return out
