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
from datetime import datetime
from typing import Any

from metrics_connect.networks.youtube.emulator.data import PACKAGE, ChannelData, Upload
from metrics_connect.sandbox.kit.calendar import days_between
from metrics_connect.sandbox.kit.google import GoogleError
from metrics_connect.sandbox.kit.google_reports import (
    ReportQuery,
    parse_report_query,
    result_table,
)
from metrics_connect.sandbox.kit.spec import load_spec

_METRICS: dict[str, tuple[str, ...]] = load_spec(
    PACKAGE, "data.yaml", "metrics", dict[str, tuple[str, ...]]
)
ACTIVITY_METRICS = _METRICS["activity"]
GEOGRAPHY_METRICS = _METRICS["geography"]
FLOAT_METRICS = frozenset(_METRICS["float"])
REFUSALS = load_spec(PACKAGE, "data.yaml", "refusals", dict[str, tuple[int, str, str]])
MAX_TOP_VIDEOS = 200
MAX_FILTER_VIDEOS = 500


def refusal(kind: str, **values: Any) -> GoogleError:
    """The refusal `kind` of data.yaml, its message filled with `values`."""
    status, reason, message = REFUSALS[kind]
    return GoogleError(message.format(**values), status, reason=reason)


def parse_query(params: Mapping[str, str], channel_id: str) -> ReportQuery:
    ids = params.get("ids")
    if not ids:
        raise refusal("required", name="ids")
    if ids not in ("channel==MINE", f"channel=={channel_id}"):
        raise refusal("not_your_channel")
    return parse_report_query(params, refusal)


def _check(query: ReportQuery) -> str:
    """The report kind the query asks for, or the API's refusal."""
    dims, metrics, filters = set(query.dimensions), set(query.metrics), set(query.filters)
    known = set(ACTIVITY_METRICS) | {"viewerPercentage"}
    for metric in query.metrics:
        if metric not in known:
            raise refusal("unknown_metric", name=metric)
    activity = metrics <= set(ACTIVITY_METRICS)
    own_filters = filters <= {"video", "creatorContentType"}
    if dims <= {"day", "creatorContentType"} and own_filters and activity:
        return "activity"
    if dims == {"video"} and own_filters and activity:
        top = query.max_results is not None and query.max_results <= MAX_TOP_VIDEOS
        descending = bool(query.sort) and query.sort[0].startswith("-")
        if not top or not descending or query.sort[0][1:] not in query.metrics:
            raise refusal("not_supported")
        return "video"
    if dims == {"country"} and not filters and metrics <= set(GEOGRAPHY_METRICS):
        return "country"
    demographic = bool(dims) and dims <= {"ageGroup", "gender"}
    if demographic and metrics == {"viewerPercentage"} and filters <= {"video", "country"}:
        return "demographics"
    raise refusal("not_supported")


def _selected(query: ReportQuery, upload: Upload) -> bool:
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
        raise refusal("too_many_filter_videos", most=MAX_FILTER_VIDEOS)
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
    return result_table("youtubeAnalytics#resultTable", query, rows, FLOAT_METRICS, refusal)
