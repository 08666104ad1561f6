"""YouTube Analytics API v2 `reports.query` on the demo channel, with the API's rules.

Supported channel reports (the API's "available reports" that the catalog needs):

- user activity: dimensions none, `day`, `creatorContentType` or `day,creatorContentType`;
  filters `video` (up to 500 ids, comma separated) and `creatorContentType`;
- top videos: dimension `video` alone, `sort` by a metric descending and `maxResults`
  of at most 200, required;
- geography: `country` (views, watch time and their averages);
- demographics: `ageGroup`, `gender` or both, metric `viewerPercentage` only.

Anything else is "The query is not supported." as the API says. Averages are computed
from the period's sums (averageViewDuration = minutes x 60 / views), never from days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from metrics_connect.networks.youtube.emulator.data import PACKAGE, ChannelData, Upload
from metrics_connect.sandbox.kit.calendar import days_between
from metrics_connect.sandbox.kit.google import GoogleError
from metrics_connect.sandbox.kit.spec import load_spec

_METRICS: dict[str, tuple[str, ...]] = load_spec(
    PACKAGE, "data.yaml", "metrics", dict[str, tuple[str, ...]]
)
ACTIVITY_METRICS = _METRICS["activity"]
GEOGRAPHY_METRICS = _METRICS["geography"]
FLOAT_METRICS = frozenset(_METRICS["float"])
NOT_SUPPORTED = (
    "The query is not supported. Check the documentation at "
    "https://developers.google.com/youtube/analytics/v2/available_reports for a list of "
    "supported queries."
)
MAX_TOP_VIDEOS = 200
MAX_FILTER_VIDEOS = 500


def bad_request(message: str, reason: str = "badRequest") -> GoogleError:
    return GoogleError(message, 400, reason=reason)


@dataclass(frozen=True)
class Query:
    start: date
    end: date
    metrics: tuple[str, ...]
    dimensions: tuple[str, ...]
    filters: dict[str, tuple[str, ...]]
    sort: tuple[str, ...]
    max_results: int | None
    start_index: int


def _date(params: Mapping[str, str], name: str) -> date:
    text = params.get(name)
    if not text:
        raise bad_request(f"Required parameter: {name}", "required")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise bad_request(
            f"Invalid value '{text}'. Values must match the following regular "
            "expression: '[0-9]{4}-[0-9]{2}-[0-9]{2}'",
            "invalid",
        ) from None


def _int(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise bad_request(f"Invalid value '{text}'. Values must be integers.", "invalid") from None


def parse_query(params: Mapping[str, str], channel_id: str) -> Query:
    ids = params.get("ids")
    if not ids:
        raise bad_request("Required parameter: ids", "required")
    if ids not in ("channel==MINE", f"channel=={channel_id}"):
        raise GoogleError("Forbidden", 403, reason="forbidden")
    start, end = _date(params, "startDate"), _date(params, "endDate")
    if end < start:
        raise bad_request("The start date must be before or equal to the end date.", "invalid")
    metrics = tuple(m for m in (params.get("metrics") or "").split(",") if m)
    if not metrics:
        raise bad_request("Required parameter: metrics", "required")
    dimensions = tuple(d for d in (params.get("dimensions") or "").split(",") if d)
    filters: dict[str, tuple[str, ...]] = {}
    for part in (params.get("filters") or "").split(";"):
        if not part:
            continue
        name, sep, value = part.partition("==")
        if not sep or not value:
            raise bad_request(f"Invalid filter: {part}", "invalid")
        filters[name] = tuple(value.split(","))
    sort = tuple(s for s in (params.get("sort") or "").split(",") if s)
    start_index = _int(params, "startIndex") or 1
    if start_index < 1:
        raise bad_request("startIndex must be at least 1.", "invalid")
    return Query(
        start, end, metrics, dimensions, filters, sort, _int(params, "maxResults"), start_index
    )


def _check(query: Query) -> str:
    """The report kind the query asks for, or the API's refusal."""
    dims, metrics, filters = set(query.dimensions), set(query.metrics), set(query.filters)
    known = set(ACTIVITY_METRICS) | {"viewerPercentage"}
    for metric in query.metrics:
        if metric not in known:
            raise bad_request(
                f"Unknown identifier ({metric}) given in field parameters.metrics.", "invalid"
            )
    activity = metrics <= set(ACTIVITY_METRICS)
    own_filters = filters <= {"video", "creatorContentType"}
    if dims <= {"day", "creatorContentType"} and own_filters and activity:
        return "activity"
    if dims == {"video"} and own_filters and activity:
        top = query.max_results is not None and query.max_results <= MAX_TOP_VIDEOS
        descending = bool(query.sort) and query.sort[0].startswith("-")
        if not top or not descending or query.sort[0][1:] not in query.metrics:
            raise bad_request(NOT_SUPPORTED)
        return "video"
    if dims == {"country"} and not filters and metrics <= set(GEOGRAPHY_METRICS):
        return "country"
    demographic = bool(dims) and dims <= {"ageGroup", "gender"}
    if demographic and metrics == {"viewerPercentage"} and filters <= {"video", "country"}:
        return "demographics"
    raise bad_request(NOT_SUPPORTED)


def _selected(query: Query, upload: Upload) -> bool:
    videos = query.filters.get("video")
    types = query.filters.get("creatorContentType")
    if videos is not None and upload.id not in videos:
        return False
    return types is None or upload.content_type in {t.upper() for t in types}


def _metric_values(metrics: tuple[str, ...], sums: dict[str, float]) -> list[int | float]:
    out: list[int | float] = []
    views = sums.get("views", 0)
    for metric in metrics:
        if metric == "averageViewDuration":
            out.append(round(sums.get("estimatedMinutesWatched", 0) * 60 / views) if views else 0)
        elif metric == "averageViewPercentage":
            out.append(round(100 * sums.get("watched_views", 0) / views, 2) if views else 0.0)
        else:
            out.append(int(sums.get(metric, 0)))
    return out


def run_report(data: ChannelData, params: Mapping[str, str], now: datetime) -> dict[str, Any]:
    query = parse_query(params, data.channel_id)
    if len(query.filters.get("video", ())) > MAX_FILTER_VIDEOS:
        raise bad_request(f"At most {MAX_FILTER_VIDEOS} videos per filter.", "invalid")
    kind = _check(query)
    groups: dict[tuple[str, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day in days_between(query.start, query.end):
        for upload, cell in data.day_cells(day, now):
            if not _selected(query, upload):
                continue
            if kind == "country":
                for country, part in data.country_split(day, cell).items():
                    sums = groups[(country,)]
                    sums["views"] += part.views
                    sums["estimatedMinutesWatched"] += part.estimatedMinutesWatched
                    # A country's viewers watch the same share of the upload.
                    share = part.views / cell.views if cell.views else 0.0
                    sums["watched_views"] += cell.watched_views * share
                continue
            if kind == "demographics":
                for (age, gender), views in data.demographic_split(day, cell.views).items():
                    key = tuple({"ageGroup": age, "gender": gender}[d] for d in query.dimensions)
                    groups[key]["viewers"] += views
                continue
            values = {
                "day": day.isoformat(),
                "creatorContentType": upload.content_type,
                "video": upload.id,
            }
            sums = groups[tuple(values[d] for d in query.dimensions)]
            for name in (*ACTIVITY_METRICS[:8], "watched_views"):
                sums[name] += getattr(cell, name)
    if kind == "demographics":
        total = sum(g["viewers"] for g in groups.values())
        rows = [
            [*key, round(100 * g["viewers"] / total, 1) if total else 0.0]
            for key, g in groups.items()
        ]
    else:
        rows = [[*key, *_metric_values(query.metrics, sums)] for key, sums in groups.items()]
    rows = _sorted(rows, query)
    first = query.start_index - 1
    rows = rows[first : first + query.max_results] if query.max_results else rows[first:]
    headers = [
        {"name": d, "columnType": "DIMENSION", "dataType": "STRING"} for d in query.dimensions
    ]
    for m in query.metrics:
        kind = "FLOAT" if m in FLOAT_METRICS else "INTEGER"
        headers.append({"name": m, "columnType": "METRIC", "dataType": kind})
    body: dict[str, Any] = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers}
    if rows:
        body["rows"] = rows
    return body


def _sorted(rows: list[list[Any]], query: Query) -> list[list[Any]]:
    columns = [*query.dimensions, *query.metrics]
    out = sorted(rows, key=lambda r: tuple(str(v) for v in r[: len(query.dimensions)]))
    for key in reversed(query.sort):
        name = key.lstrip("-")
        if name not in columns:
            raise bad_request(f"Unknown identifier ({name}) given in field parameters.sort.")
        index = columns.index(name)
        out.sort(key=lambda r, i=index: r[i], reverse=key.startswith("-"))  # type: ignore[misc]
    return out
