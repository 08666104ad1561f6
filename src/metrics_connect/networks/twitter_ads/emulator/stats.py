"""The stats query semantics: what GET stats/accounts/:id and an async job answer.

Parameters as X documents them: `entity` and `entity_ids` (at most 20), `start_time` and
`end_time` (ISO 8601; whole hours, and local midnights of the account's time zone for
DAY granularity; end exclusive), `granularity` DAY | HOUR | TOTAL, `metric_groups`,
`placement` ALL_ON_TWITTER | PUBLISHER_NETWORK. Synchronous spans are at most 7 days,
asynchronous jobs at most 90. The answer's metrics are arrays of `time_series_length`
values, null where the entity had no data over the whole span.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.responses import JSONResponse

from metrics_connect.networks.twitter_ads.emulator.data import (
    ENTITIES,
    GENERATED,
    HOURLY_WEIGHTS,
    METRIC_GROUPS,
    Account,
    entity_day,
)
from metrics_connect.sandbox.kit.seeded import apportion

MAX_ENTITY_IDS = 20
SYNC_MAX_DAYS = 7
ASYNC_MAX_DAYS = 90


class XError(Exception):
    """An answer in X's envelope: {"errors": [{"code", "message", "parameter"?}]}."""

    def __init__(
        self, status: int, code: str, message: str, parameter: str | None = None, **headers: str
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.parameter = status, code, message, parameter
        self.headers = {k.replace("_", "-"): v for k, v in headers.items()}

    def response(self, params: Mapping[str, str]) -> JSONResponse:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.parameter:
            error["parameter"] = self.parameter
        body = {"errors": [error], "request": {"params": dict(params)}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def invalid(parameter: str, message: str) -> XError:
    return XError(400, "INVALID_PARAMETER", message, parameter)


@dataclass(frozen=True)
class StatsQuery:
    entity: str
    entity_ids: tuple[str, ...]
    start: datetime
    end: datetime
    granularity: str
    metric_groups: tuple[str, ...]
    placement: str

    def echo(self) -> dict[str, Any]:
        """The `request.params` X echoes back."""
        out: dict[str, Any] = {k: v for k, v in vars(self).items() if k not in ("start", "end")}
        out |= {"entity_ids": list(self.entity_ids), "metric_groups": list(self.metric_groups)}
        return out | {
            "start_time": self.start.isoformat().replace("+00:00", "Z"),
            "end_time": self.end.isoformat().replace("+00:00", "Z"),
        }


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise XError(400, "MISSING_PARAMETER", f"{name} is missing", name)
    return value


def _one_of(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = _required(params, name).upper()
    if value not in allowed:
        raise invalid(name, f"Expected one of: {', '.join(allowed)}, got {value}")
    return value


def _instant(params: Mapping[str, str], name: str, tz: ZoneInfo) -> datetime:
    """An ISO 8601 instant; a bare date (the SDK's for DAY) is the account's midnight."""
    raw = _required(params, name)
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(0), tz)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(name, f"{name} is not an ISO 8601 timestamp: {raw}") from None
    if parsed.tzinfo is None:
        raise invalid(name, f"{name} needs a time zone offset: {raw}")
    return parsed


def parse(params: Mapping[str, str], account: Account, max_days: int) -> StatsQuery:
    entity = _one_of(params, "entity", ENTITIES)
    ids = tuple(i for i in _required(params, "entity_ids").split(",") if i)
    if len(ids) > MAX_ENTITY_IDS:
        raise invalid("entity_ids", f"Expected at most {MAX_ENTITY_IDS} entity_ids")
    granularity = _one_of(params, "granularity", ("DAY", "HOUR", "TOTAL"))
    groups = tuple(g.upper() for g in _required(params, "metric_groups").split(",") if g)
    for group in groups:
        if group not in METRIC_GROUPS:
            raise invalid("metric_groups", f"Unknown metric group: {group}")
    placement = _one_of(params, "placement", ("ALL_ON_TWITTER", "PUBLISHER_NETWORK"))
    tz = ZoneInfo(account.timezone)
    start, end = _instant(params, "start_time", tz), _instant(params, "end_time", tz)
    for name, moment in (("start_time", start), ("end_time", end)):
        local = moment.astimezone(tz)
        if local.minute or local.second or local.microsecond:
            raise invalid(name, f"{name} must be expressed in whole hours")
        if granularity == "DAY" and local.hour:
            raise invalid(
                name, f"{name} must be midnight in the account's time zone ({account.timezone})"
            )
    if end <= start:
        raise invalid("end_time", "end_time must be after start_time")
    if end - start > timedelta(days=max_days, hours=1):  # a DST day is 25 hours
        message = f"The time between start_time and end_time may be at most {max_days} days"
        raise XError(400, "INVALID_TIME_WINDOW", message, "end_time")
    return StatsQuery(entity, ids, start, end, granularity, groups, placement)


def series(account: Account, query: StatsQuery, entity_id: str) -> dict[str, list[int]] | None:
    """One entity's values per time bucket, per generated metric; None: unknown entity."""
    tz = ZoneInfo(account.timezone)
    first, end = query.start.astimezone(tz), query.end.astimezone(tz)
    days = [first.date() + timedelta(days=i) for i in range((end.date() - first.date()).days)]
    if query.granularity == "DAY":  # start and end are local midnights
        found = [entity_day(account.id, query.entity, entity_id, d) for d in days]
        return None if None in found else {m: [d[m] for d in found if d] for m in GENERATED}
    hourly: dict[date, dict[str, list[int]]] = {}
    out: dict[str, list[int]] = {m: [] for m in GENERATED}
    for i in range(int((query.end - query.start).total_seconds() // 3600)):
        local = (query.start + timedelta(hours=i)).astimezone(tz)
        if local.date() not in hourly:
            day = entity_day(account.id, query.entity, entity_id, local.date())
            if day is None:
                return None
            hourly[local.date()] = {m: apportion(v, HOURLY_WEIGHTS) for m, v in day.items()}
        for metric in GENERATED:
            out[metric].append(hourly[local.date()][metric][local.hour])
    return {m: [sum(v)] for m, v in out.items()} if query.granularity == "TOTAL" else out


def answer(account: Account, query: StatsQuery) -> dict[str, Any]:
    """The stats answer (the synchronous body, and an async job's file)."""
    wanted = [m for g in query.metric_groups for m in METRIC_GROUPS[g]]
    data, length = [], 0
    for entity_id in query.entity_ids:
        values = series(account, query, entity_id)
        if values is None:
            raise invalid(
                "entity_ids", f"{query.entity} {entity_id} is not in account {account.id}"
            )
        length = len(next(iter(values.values())))
        # This sandbox's campaigns deliver on X itself, none on the publisher network.
        on_x = query.placement == "ALL_ON_TWITTER"
        metrics = {
            m: (values[m] if on_x and m in values and any(values[m]) else None) for m in wanted
        }
        data.append({"id": entity_id, "id_data": [{"segment": None, "metrics": metrics}]})
    body = {"data_type": "stats", "time_series_length": length, "data": data}
    return body | {"request": {"params": query.echo()}}
