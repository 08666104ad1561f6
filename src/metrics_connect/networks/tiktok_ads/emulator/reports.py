"""GET /open_api/v1.3/report/integrated/get/: TikTok's synchronous integrated report.

What the API for Business documents for BASIC and AUDIENCE reports of the AUCTION
service: one ID dimension matching `data_level` (advertiser_id, campaign_id, ad_id),
optionally `stat_time_day` (then at most 30 days per call) and, for AUDIENCE reports,
one audience dimension (or gender with age); without a time dimension the figures are
the period's own (reach a unique count over it), at most 365 days. `filtering` narrows
by campaign_ids / ad_ids; pages of at most 1,000 rows with `page_info`. Numbers come
back as strings, money with two decimals, days as "YYYY-MM-DD 00:00:00".
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from metrics_connect.networks.tiktok_ads.emulator.data import (
    Ad,
    AdsData,
    Cell,
    ReportSpec,
    is_money,
)
from metrics_connect.sandbox.kit.calendar import days_between
from metrics_connect.sandbox.kit.code_envelope import NO_PERMISSION, CodeError
from metrics_connect.sandbox.kit.code_params import (
    date_range,
    filters_param,
    list_param,
    one_param,
    refused,
)
from metrics_connect.sandbox.kit.paging import page_info_page
from metrics_connect.sandbox.kit.report_tasks import rows_csv
from metrics_connect.sandbox.kit.spec import load_spec

REPORT: ReportSpec = load_spec(__package__ or "", "data.yaml", "report", ReportSpec)


@dataclass(frozen=True)
class Query:
    report_type: str
    data_level: str
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    start: date
    end: date
    filters: dict[str, frozenset[str]]  # an ad field (campaign_id, ad_id) -> values kept
    page: int
    page_size: int

    @property
    def by_day(self) -> bool:
        return "stat_time_day" in self.dimensions

    @property
    def audience(self) -> tuple[str, ...]:
        return tuple(d for d in self.dimensions if d in REPORT.audience_dimensions)


def parse_query(params: dict[str, list[str]], data: AdsData) -> Query:
    one = functools.partial(one_param, params)
    if one("advertiser_id") != data.advertiser_id:
        raise CodeError(NO_PERMISSION, "advertiser_id: No permission to operate advertiser")
    report_type = one("report_type")
    if report_type not in ("BASIC", "AUDIENCE"):
        raise refused(f"report_type: {report_type} is not supported by this report")
    level = one("data_level", "AUCTION_ADVERTISER")
    if level not in REPORT.level_dimension:
        raise refused(f"data_level: must be one of {', '.join(REPORT.level_dimension)}")
    dims = tuple(str(d) for d in list_param(params.get("dimensions", []), "dimensions"))
    id_dim = REPORT.level_dimension[level]
    if id_dim not in dims:
        raise refused(f"dimensions: {level} needs the ID dimension {id_dim}")
    allowed = {id_dim, "stat_time_day"}
    if report_type == "AUDIENCE":
        allowed |= set(REPORT.audience_dimensions)
        audience = [d for d in dims if d in REPORT.audience_dimensions]
        if not audience or (len(audience) > 1 and set(audience) != {"gender", "age"}):
            raise refused("dimensions: an AUDIENCE report takes one audience dimension")
    unknown = [d for d in dims if d not in allowed]
    if unknown:
        raise refused(f"dimensions: {unknown[0]} is not a valid dimension here")
    metrics = tuple(str(m) for m in list_param(params.get("metrics", []), "metrics"))
    attributes = set(REPORT.attributes[level])
    valid = set(data.metric_names) - REPORT.hidden | set(REPORT.ratios) | attributes
    if report_type == "AUDIENCE":
        valid &= REPORT.audience_metrics | attributes
    bad = [m for m in metrics if m not in valid]
    if bad:
        raise refused(f"metrics: {bad[0]} is not a valid metric for this report")
    limit = REPORT.max_days_by_day if "stat_time_day" in dims else REPORT.max_days
    start, end = date_range(one("start_date"), one("end_date"), limit)
    filters = filters_param(params.get("filtering", []), REPORT.filters)
    page_size = int(one("page_size", "10"))
    if not 1 <= page_size <= REPORT.max_page_size:
        raise refused(f"page_size: must be between 1 and {REPORT.max_page_size}")
    return Query(
        report_type, level, dims, metrics, start, end, filters,
        max(1, int(one("page", "1"))), page_size,
    )  # fmt: skip


def _text(name: str, value: float) -> str:
    if is_money(name) or name in REPORT.ratios:
        return f"{value:.2f}"
    return str(int(round(value)))


def report_csv(data: AdsData, query: Query, at: datetime) -> str:
    """An asynchronous task's file: every row, dimensions then metrics, as CSV."""
    rows = run_report(data, replace(query, page=1, page_size=10**9), at)["list"]
    return rows_csv(rows, query.dimensions, query.metrics)


def run_report(data: AdsData, query: Query, at: datetime) -> dict[str, Any]:
    """The page's rows and page_info."""
    id_dim = REPORT.level_dimension[query.data_level]
    groups: dict[tuple[str, ...], list[tuple[Ad, date, Cell]]] = defaultdict(list)
    for day in days_between(query.start, query.end):
        for ad in data.ads:
            if any(ad.fields[name] not in kept for name, kept in query.filters.items()):
                continue
            cell = data.day_cell(ad, day, at)
            if not cell:
                continue
            key = (ad.fields[id_dim], day.isoformat() if query.by_day else "")
            if query.audience:
                for value, part in _audience_parts(data, ad, query.audience, cell).items():
                    groups[(*key, *value)].append((ad, day, part))
            else:
                groups[key].append((ad, day, cell))
    rows = [_row(data, query, key, cells) for key, cells in sorted(groups.items())]
    return page_info_page(rows, query.page, query.page_size)


def _audience_parts(
    data: AdsData, ad: Ad, dims: tuple[str, ...], cell: Cell
) -> dict[tuple[str, ...], Cell]:
    """One cell per combination of the audience dimensions' values."""
    parts: dict[tuple[str, ...], Cell] = {(): cell}
    for dim in dims:
        split: dict[tuple[str, ...], Cell] = {}
        for prefix, part in parts.items():
            per_metric = {
                m: data.audience_split(ad, dim, part, m)
                for m in REPORT.audience_metrics
                if m in part
            }
            for value in data.spec.audience[dim]:
                split[(*prefix, value)] = {m: shares[value] for m, shares in per_metric.items()}
        parts = split
    return parts


def _row(
    data: AdsData, query: Query, key: tuple[str, ...], cells: list[tuple[Ad, date, Cell]]
) -> dict[str, Any]:
    sums: dict[str, float] = defaultdict(float)
    for _, _, cell in cells:
        for name, amount in cell.items():
            sums[name] += amount
    dimensions: dict[str, str] = {REPORT.level_dimension[query.data_level]: key[0]}
    if query.by_day:
        dimensions["stat_time_day"] = f"{key[1]} 00:00:00"
    for dim, value in zip(query.audience, key[2:], strict=True):
        dimensions[dim] = value
    days = len({d for _, d, _ in cells})
    if query.report_type == "BASIC":
        sums["reach"] = data.reach(cells)
        sums["viewers"] = data.viewers(sums["video_play_actions"], days)
    metrics: dict[str, Any] = {}
    fields = cells[0][0].fields  # the ad's: one row is one ad, campaign or advertiser
    for name in query.metrics:
        if name in fields:
            metrics[name] = fields[name]
        elif name in REPORT.ratios:
            top, bottom, scale = REPORT.ratios[name]
            metrics[name] = _text(name, sums[top] * scale / sums[bottom] if sums[bottom] else 0)
        else:
            metrics[name] = _text(name, sums.get(name, 0))
    return {"dimensions": dimensions, "metrics": metrics}
