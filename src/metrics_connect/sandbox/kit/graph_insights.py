"""Graph insights (Instagram, Facebook Pages): time parameters, the previous/next window
paging of time series, breakdown results over several dimensions, and the newest-first
cursor paging of media lists."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from urllib.parse import urlencode

from metrics_connect.sandbox.kit.meta_graph import invalid_parameter
from metrics_connect.sandbox.kit.seeded import apportion


def parse_instant(
    raw: str, name: str, day_start: Callable[[date], datetime], tz: tzinfo
) -> datetime:
    """A `since`/`until` value: a Unix time, a local day (its start), or an ISO instant
    (the account's time zone when it has none)."""
    raw = raw.strip()
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?", raw):
            return datetime.fromtimestamp(float(raw), UTC)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return day_start(date.fromisoformat(raw))
        parsed = datetime.fromisoformat(raw.replace("+0000", "+00:00"))
    except (ValueError, OverflowError, OSError) as exc:
        raise invalid_parameter(f"The parameter {name} must be a valid time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def check_span(since: datetime, until: datetime, max_days: int) -> None:
    """Graph's limit on the time between `since` and `until` (30 days, 90 days...)."""
    seconds = max_days * 86400
    if (until - since).total_seconds() > seconds:
        raise invalid_parameter(
            f"There cannot be more than {max_days} days ({seconds} s) between since and until"
        )


def window_paging(
    base_url: str, params: dict[str, str], since: datetime, until: datetime
) -> dict[str, str]:
    """`previous` and `next`: the same query over the windows just before and after."""
    span = until - since

    def url(s: datetime, u: datetime) -> str:
        query = {k: v for k, v in params.items() if k not in ("since", "until")}
        query.update({"since": str(int(s.timestamp())), "until": str(int(u.timestamp()))})
        return f"{base_url}?{urlencode(query)}"

    return {"previous": url(since - span, until - span), "next": url(since + span, until + span)}


def metric_header(name: str, period: str, title: str, description: str) -> dict[str, Any]:
    return {"name": name, "period": period, "title": title, "description": description}


def insight_entry(
    owner_id: str, name: str, period: str, title: str, description: str, key: str, value: Any
) -> dict[str, Any]:
    """A metric's answer: its header, its `values` (or `total_value`), its id."""
    header = metric_header(name, period, title, description)
    return {**header, key: value, "id": f"{owner_id}/insights/{name}/{period}"}


def joint_results(total: int, marginals: list[dict[str, int]]) -> list[dict[str, Any]]:
    """Breakdown results over one or more dimensions, summing to `total` (zeros omitted)."""
    combos: list[tuple[list[str], float]] = [([], 1.0)]
    for marginal in marginals:
        size = sum(marginal.values()) or 1
        combos = [
            ([*keys, k], share * v / size) for keys, share in combos for k, v in marginal.items()
        ]
    if len(marginals) == 1:
        counts = [marginals[0][keys[0]] for keys, _ in combos]
    else:
        counts = apportion(total, [share for _, share in combos])
    return [
        {"dimension_values": keys, "value": n}
        for (keys, _), n in zip(combos, counts, strict=True)
        if n
    ]


SortKey = tuple[Any, ...]


def newest_first_bounds(
    keys: Sequence[SortKey], after: SortKey | None, before: SortKey | None, limit: int
) -> tuple[int, int]:
    """The [start, end) of a page of a newest-first list by sort key: `after` walks to
    older items, `before` back to newer ones (positions stay valid when an item is gone)."""
    if after is not None:
        start = next((i for i, k in enumerate(keys) if k < after), len(keys))
        return start, min(start + limit, len(keys))
    if before is not None:
        end = next((i for i, k in enumerate(keys) if k <= before), len(keys))
        return max(0, end - limit), end
    return 0, min(limit, len(keys))
