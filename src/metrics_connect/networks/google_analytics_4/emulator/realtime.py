"""runRealtimeReport: the last 30 minutes of the property's activity.

A standard property answers minute ranges within the last 29 minutes (`minuteRanges`,
up to 2, default 0..29 minutes ago). The emulator places a session and all its events
at the minute it started, today (property time); dimensions minutesAgo, country, city,
deviceCategory, eventName and unifiedScreenName (the page title); metrics activeUsers
(distinct users), eventCount, screenPageViews, keyEvents. A `dateRange` dimension is
added when there are several minute ranges, as GA4 does.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from metrics_connect.networks.google_analytics_4.emulator.data import PropertyData
from metrics_connect.networks.google_analytics_4.emulator.filters import compile_dimension_filter
from metrics_connect.networks.google_analytics_4.emulator.report import table
from metrics_connect.networks.google_analytics_4.emulator.schema import refused
from metrics_connect.sandbox.kit.report_rows import order_rows
from metrics_connect.sandbox.kit.spec import load_spec

MAX_MINUTES_AGO = 29
MAX_MINUTE_RANGES = 2
DEFAULT_LIMIT = 10_000
# Dimensions: str.format templates over the session s, the event h and the minutes ago.
DIMENSIONS: dict[str, str] = load_spec(__package__, "data.yaml", "realtime", Any)["dimensions"]
METRICS: list[str] = load_spec(__package__, "data.yaml", "realtime", Any)["metrics"]


def _names(raw: Any, registry: Collection[str], kind: str) -> list[str]:
    names = [item.get("name", "") for item in raw or []]
    for name in names:
        if name not in registry:
            raise refused("realtime_field", name=name, kind=kind)
    return names


def _minute_ranges(raw: Any) -> list[tuple[int, int, str]]:
    ranges = raw or [{}]
    if len(ranges) > MAX_MINUTE_RANGES:
        raise refused("too_many", limit=MAX_MINUTE_RANGES, what="minuteRanges")
    out = []
    for index, item in enumerate(ranges):
        start = int(item.get("startMinutesAgo", MAX_MINUTES_AGO))
        end = int(item.get("endMinutesAgo", 0))
        if not 0 <= end <= start <= MAX_MINUTES_AGO:
            raise refused("minute_range", max=MAX_MINUTES_AGO)
        out.append((start, end, item.get("name") or f"date_range_{index}"))
    return out


def run_realtime_report(data: PropertyData, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    dims = _names(body.get("dimensions"), DIMENSIONS, "dimension")
    metrics = _names(body.get("metrics"), METRICS, "metric")
    if not metrics:
        raise refused("no_metrics")
    ranges = _minute_ranges(body.get("minuteRanges"))
    raw_filter = body.get("dimensionFilter")
    keep = compile_dimension_filter(raw_filter) if raw_filter else None
    out_dims = dims + (["dateRange"] if len(ranges) > 1 else [])
    local = data.local_now(now)
    minute = local.hour * 60 + local.minute
    users: dict[tuple[str, ...], set[int]] = {}
    counts: dict[tuple[str, ...], dict[str, float]] = {}
    for session in data.sessions_of_day(local.date(), now):
        ago = minute - session.start_minute
        for start, end, name in ranges:
            if not end <= ago <= start:
                continue
            for hit in session.hits:
                if keep is not None and not keep(
                    lambda field, s=session, h=hit, a=ago: DIMENSIONS[field].format(s=s, h=h, ago=a)  # type: ignore[misc]
                    if field in DIMENSIONS
                    else "(not set)"
                ):
                    continue
                key = tuple(DIMENSIONS[d].format(s=session, h=hit, ago=ago) for d in dims)
                key += (name,) if len(ranges) > 1 else ()
                users.setdefault(key, set()).add(session.user.user_id)
                row = counts.setdefault(key, {})
                for metric in ("eventCount", "screenPageViews", "keyEvents"):
                    row[metric] = row.get(metric, 0.0) + hit.values.get(metric, 0.0)
    rows = [(key, {**row, "activeUsers": float(len(users[key]))}) for key, row in counts.items()]
    order_rows(rows, lambda r: r[0], [(lambda r: r[1][metrics[0]], True)])
    limit = int(body.get("limit") or DEFAULT_LIMIT)
    types = dict.fromkeys(metrics, "TYPE_INTEGER")
    return table(out_dims, types, rows[:limit], len(rows), kind="runRealtimeReport")
