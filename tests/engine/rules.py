"""A small hand-made network for the engine's pure rules: datasets, catalog, facts."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from metrics_connect.catalog.loader import Catalog, parse_catalog
from metrics_connect.connectors.base import DatasetSpec, ObjectRow, Row
from metrics_connect.engine.aggregate import Facts
from metrics_connect.engine.request import WidgetIn
from metrics_connect.engine.resolve import resolve_widget
from metrics_connect.engine.service import answer_widgets

DATASETS = {
    "daily": DatasetSpec("daily", "daily", ("clicks", "impressions"), breakdowns=("device",)),
    "period": DatasetSpec("period", "period", ("reach", "clicks"), breakdowns=("device",)),
    "snap": DatasetSpec("snap", "snapshot", ("followers",), breakdowns=("gender",)),
    "posts": DatasetSpec("posts", "objects", ("kind", "caption", "reach", "likes")),
}

CATALOG_YAML = """
slug: toy
name: Toy Network
entities:
  campaign: {field: campaign.id}
datasets:
  daily: {pushdown_filters: [campaign.id]}
dimensions:
  date: {label: Date, kind: date}
  device: {label: Device, kind: category, field: device, value_labels: {m: Mobile, d: Desktop}}
  gender: {label: Gender, kind: category, field: gender, value_labels: {F: Female, M: Male}}
  kind: {label: Kind, kind: category, field: kind}
  posts: {label: Post, kind: item, dataset: posts, label_field: caption}
  videos:
    label: Video
    kind: item
    dataset: posts
    label_field: caption
    filters: [{field: kind, operator: EQUAL, value: VIDEO}]
  mobile:
    label: Mobile
    kind: filter
    filters: [{field: device, operator: EQUAL, value: m}]
metrics:
  clicks:
    label: Clicks
    sources:
      - {dataset: daily, field: clicks, aggregation: sum}
  impressions:
    label: Impressions
    sources: [{dataset: daily, field: impressions, aggregation: sum}]
  reach:
    label: Reach
    sources:
      - {dataset: posts, field: reach, aggregation: sum}
      - {dataset: period, field: reach, aggregation: period}
  likes:
    label: Likes
    sources: [{dataset: posts, field: likes, aggregation: sum}]
  count:
    label: Count
    sources: [{dataset: posts, aggregation: count}]
  type:
    label: Type
    unit: text
    sources: [{dataset: posts, field: kind, aggregation: attribute}]
  followers:
    label: Followers
    sources: [{dataset: snap, field: followers, aggregation: last}]
  ctr:
    label: CTR
    unit: percent
    ratio: {numerator: clicks, denominator: impressions, scale: 100}
  clicks_share:
    label: Share of clicks
    unit: percent
    ratio: {numerator: clicks, denominator: clicks, scale: 100, of_total: true}
  click_reach:
    label: Clicks per reach
    unit: ratio
    ratio: {numerator: clicks, denominator: reach}
  engagement:
    label: Engagement
    sum_of: [likes, reach]
  clicks_a_day:
    label: Clicks a day
    per_day: clicks
widgets:
  toy:clicks_rate:
    component: number_v1
    metrics: [clicks, impressions]
    combine: ratio
  toy:note:
    component: wysiwyg_v1
    metrics: []
"""

D0 = date(2026, 1, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


@lru_cache(maxsize=1)
def toy_catalog() -> Catalog:
    return parse_catalog(CATALOG_YAML, DATASETS)


def toy_facts(today: date = date(2026, 3, 1)) -> Facts:
    """Ten days of daily rows (two devices), a period, snapshots and posts."""
    rows = []
    for n in range(10):
        rows.append(Row(day(n), {"device": "m"}, {"clicks": n, "impressions": 100}))
        rows.append(Row(day(n), {"device": "d"}, {"clicks": 2 * n, "impressions": 50}))
    totals = [Row(day(n), {}, {"clicks": 3 * n, "impressions": 150}) for n in range(10)]
    snaps = [
        Row(day(2), {"gender": "F"}, {"followers": 10}),
        Row(day(2), {"gender": "M"}, {"followers": 5}),
        Row(day(6), {"gender": "F"}, {"followers": 12}),
        Row(day(6), {"gender": "M"}, {"followers": 7}),
    ]
    posts = [
        ObjectRow("p1", day(1), {"kind": "IMAGE", "caption": "First"}, {"reach": 100, "likes": 10}),
        ObjectRow(
            "p2", day(3), {"kind": "VIDEO", "caption": "Second"}, {"reach": 300, "likes": 30}
        ),
        ObjectRow("p3", day(3), {"kind": "VIDEO", "caption": "Third"}, {"reach": 200, "likes": 0}),
        ObjectRow("p4", day(8), {"kind": "IMAGE", "caption": "Fourth"}, {"reach": 50, "likes": 5}),
    ]
    return Facts(
        today=today,
        rows={
            ("daily", '{"b":["device"]}'): rows,
            ("daily", "-"): totals,
            ("snap", '{"b":["gender"]}'): snaps,
            ("snap", "-"): [
                Row(r.day, {}, {"followers": 15 if r.day == day(2) else 19}) for r in snaps[::2]
            ],
        },
        objects={("posts", "-"): posts},
        periods={
            ("period", "-", day(0), day(9)): [Row(None, {}, {"reach": 700, "clicks": 135})],
            ("period", '{"b":["device"]}', day(0), day(9)): [
                Row(None, {"device": "m"}, {"reach": 500, "clicks": 45}),
                Row(None, {"device": "d"}, {"reach": 400, "clicks": 90}),
            ],
        },
    )


def widget(wid: str = "w", **fields: Any) -> WidgetIn:
    fields.setdefault("component", "number_v1")
    fields.setdefault("reference_key", f"toy:{wid}")
    return WidgetIn.model_validate({"id": wid, **fields})


def answer(
    widgets: list[WidgetIn],
    start: date = day(0),
    end: date = day(9),
    comparison: tuple[date, date] | None = None,
    facts: Facts | None = None,
) -> dict[str, Any]:
    catalog = toy_catalog()
    resolved = [resolve_widget(catalog, w) for w in widgets]
    return answer_widgets(resolved, facts or toy_facts(), (start, end), comparison)


def one(w: WidgetIn, **kwargs: Any) -> Any:
    return answer([w], **kwargs)[w.id]
