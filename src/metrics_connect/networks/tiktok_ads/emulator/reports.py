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

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from metrics_connect.networks.tiktok_ads.emulator.data import Ad, AdsData, Cell, ReportSpec
from metrics_connect.sandbox.kit.spec import load_spec

REPORT: ReportSpec = load_spec(__package__ or "", "data.yaml", "report", ReportSpec)


class ReportError(Exception):
    """A refused report: TikTok's 40002 (invalid parameter) with its message."""


def list_param(raw: list[str], name: str) -> list[Any]:
    """A JSON-array parameter (the docs) or repeated values (the official SDK's 'multi')."""
    if not raw:
        return []
    if len(raw) == 1 and raw[0].strip().startswith("["):
        try:
            value = json.loads(raw[0])
        except ValueError:
            raise ReportError(f"{name}: invalid JSON array") from None
        return list(value) if isinstance(value, list) else [value]
    return [json.loads(r) if r.strip().startswith("{") else r for r in raw]


@dataclass(frozen=True)
class Query:
    report_type: str
    data_level: str
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    start: date
    end: date
    campaign_ids: frozenset[str] | None
    ad_ids: frozenset[str] | None
    page: int
    page_size: int

    @property
    def by_day(self) -> bool:
        return "stat_time_day" in self.dimensions

    @property
    def audience(self) -> tuple[str, ...]:
        return tuple(d for d in self.dimensions if d in REPORT.audience_dimensions)


def parse_query(params: dict[str, list[str]], data: AdsData) -> Query:
    def one(name: str, default: str | None = None) -> str:
        values = params.get(name)
        if not values or values[0] == "":
            if default is None:
                raise ReportError(f"{name}: Missing data for required field.")
            return default
        return values[0]

    if one("advertiser_id") != data.advertiser_id:
        raise ReportError("advertiser_id: No permission to operate advertiser")  # 40001 upstream
    report_type = one("report_type")
    if report_type not in ("BASIC", "AUDIENCE"):
        raise ReportError(f"report_type: {report_type} is not supported by this report")
    level = one("data_level", "AUCTION_ADVERTISER")
    if level not in REPORT.level_dimension:
        raise ReportError(f"data_level: must be one of {', '.join(REPORT.level_dimension)}")
    dims = tuple(str(d) for d in list_param(params.get("dimensions", []), "dimensions"))
    id_dim = REPORT.level_dimension[level]
    if id_dim not in dims:
        raise ReportError(f"dimensions: {level} needs the ID dimension {id_dim}")
    allowed = {id_dim, "stat_time_day"}
    if report_type == "AUDIENCE":
        allowed |= set(REPORT.audience_dimensions)
        audience = [d for d in dims if d in REPORT.audience_dimensions]
        if not audience or (len(audience) > 1 and set(audience) != {"gender", "age"}):
            raise ReportError("dimensions: an AUDIENCE report takes one audience dimension")
    unknown = [d for d in dims if d not in allowed]
    if unknown:
        raise ReportError(f"dimensions: {unknown[0]} is not a valid dimension here")
    metrics = tuple(str(m) for m in list_param(params.get("metrics", []), "metrics"))
    attributes = set(REPORT.attributes[level])
    valid = set(data.metric_names) - REPORT.hidden | set(REPORT.ratios) | attributes
    valid |= {"average_video_play_per_user"}
    if report_type == "AUDIENCE":
        valid &= REPORT.audience_metrics | attributes
    bad = [m for m in metrics if m not in valid]
    if bad:
        raise ReportError(f"metrics: {bad[0]} is not a valid metric for this report")
    try:
        start, end = date.fromisoformat(one("start_date")), date.fromisoformat(one("end_date"))
    except ValueError:
        raise ReportError("start_date/end_date: format YYYY-MM-DD") from None
    span = (end - start).days + 1
    if span < 1:
        raise ReportError("end_date must not be earlier than start_date")
    limit = REPORT.max_days_by_day if "stat_time_day" in dims else REPORT.max_days
    if span > limit:
        raise ReportError(f"The time range cannot exceed {limit} days for these dimensions")
    campaign_ids = ad_ids = None
    for item in list_param(params.get("filtering", []), "filtering"):
        if not isinstance(item, dict):
            raise ReportError("filtering: objects of field_name, filter_type, filter_value")
        values = frozenset(str(v) for v in list_param([str(item.get("filter_value", "[]"))], "x"))
        if item.get("field_name") == "campaign_ids":
            campaign_ids = values
        elif item.get("field_name") == "ad_ids":
            ad_ids = values
        else:
            raise ReportError(f"filtering: {item.get('field_name')} is not supported here")
    page_size = int(one("page_size", "10"))
    if not 1 <= page_size <= REPORT.max_page_size:
        raise ReportError(f"page_size: must be between 1 and {REPORT.max_page_size}")
    return Query(
        report_type, level, dims, metrics, start, end, campaign_ids, ad_ids,
        max(1, int(one("page", "1"))), page_size,
    )  # fmt: skip


def _money(name: str) -> bool:
    return name == "spend" or name.endswith("_value") or name.startswith(("cost_", "cp"))


def _text(name: str, value: float | None) -> str:
    if value is None:
        return "0"
    if _money(name) or name in REPORT.ratios or name == "average_video_play_per_user":
        return f"{value:.2f}"
    return str(int(round(value)))


def report_csv(data: AdsData, query: Query, at: datetime) -> str:
    """An asynchronous task's file: every row, dimensions then metrics, as CSV."""
    whole = replace(query, page=1, page_size=10**9)
    rows = run_report(data, whole, at)["list"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*query.dimensions, *query.metrics])
    for row in rows:
        writer.writerow(
            [row["dimensions"].get(d, "") for d in query.dimensions]
            + [row["metrics"].get(m, "") for m in query.metrics]
        )
    return out.getvalue()


def run_report(data: AdsData, query: Query, at: datetime) -> dict[str, Any]:
    """The page's rows and page_info."""
    id_dim = REPORT.level_dimension[query.data_level]
    groups: dict[tuple[str, ...], list[tuple[Ad, date, Cell]]] = defaultdict(list)
    day = query.start
    while day <= query.end:
        for ad in data.ads:
            if query.campaign_ids is not None and ad.campaign.campaign_id not in query.campaign_ids:
                continue
            if query.ad_ids is not None and ad.ad_id not in query.ad_ids:
                continue
            cell = data.day_cell(ad, day, at)
            if not cell:
                continue
            entity = {
                "advertiser_id": data.advertiser_id,
                "campaign_id": ad.campaign.campaign_id,
                "ad_id": ad.ad_id,
            }[id_dim]
            key = (entity, day.isoformat() if query.by_day else "")
            if query.audience:
                for value, part in _audience_parts(data, ad, query.audience, cell).items():
                    groups[(*key, *value)].append((ad, day, part))
            else:
                groups[key].append((ad, day, cell))
        day += timedelta(days=1)
    rows = [_row(data, query, key, cells) for key, cells in sorted(groups.items())]
    total = len(rows)
    first = (query.page - 1) * query.page_size
    return {
        "list": rows[first : first + query.page_size],
        "page_info": {
            "page": query.page,
            "page_size": query.page_size,
            "total_number": total,
            "total_page": (total + query.page_size - 1) // query.page_size,
        },
    }


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
        viewers = data.viewers(sums["video_play_actions"], days)
        sums["average_video_play_per_user"] = sums["video_play_seconds"] / viewers if viewers else 0
    metrics: dict[str, Any] = {}
    ad = cells[0][0]
    attributes = {
        "advertiser_name": str(data.advertiser["name"]),
        "currency": str(data.advertiser["currency"]),
        "campaign_name": ad.campaign.campaign_name,
        "objective_type": ad.campaign.objective_type,
        "campaign_id": ad.campaign.campaign_id,
        "ad_name": ad.ad_name,
    }
    for name in query.metrics:
        if name in attributes:
            metrics[name] = attributes[name]
        elif name in REPORT.ratios:
            top, bottom, scale = REPORT.ratios[name]
            metrics[name] = _text(name, sums[top] * scale / sums[bottom] if sums[bottom] else 0)
        else:
            metrics[name] = _text(name, sums.get(name, 0))
    return {"dimensions": dimensions, "metrics": metrics}
