"""The Google Ads Query Language: a query (the sandbox kit's SELECT language; DURING
literals as data.yaml's date presets) checked against the API's resources and run on
the emulated cells. Rows are grouped by the selected attributes and segments, metrics
summed, rates computed from summed parts; rows without metrics are left out, as the API
does. Refusals carry the API's QueryError codes
(developers.google.com/google-ads/api/docs/query/grammar).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from metrics_connect.networks.google_ads.emulator import data
from metrics_connect.networks.google_ads.emulator.refusals import refusal
from metrics_connect.sandbox.kit.calendar import LocalDays
from metrics_connect.sandbox.kit.formulas import Formulas
from metrics_connect.sandbox.kit.periods import Preset
from metrics_connect.sandbox.kit.proto_json import get, put
from metrics_connect.sandbox.kit.select_query import (
    SelectQuery,
    date_span,
    matches,
    ordered,
    parse_select,
)
from metrics_connect.sandbox.kit.spec import load_spec

RESOURCES: dict[str, dict[str, Any]] = data.spec("resources")
FIELDS: dict[str, list[str]] = data.spec("fields")
COUNTS: list[str] = data.spec("counts")
FRACTIONS: list[str] = data.spec("fractions")
RATES: dict[str, str] = data.spec("rates")
DERIVED: dict[str, str] = data.spec("derived")
PER_ROW = Formulas({**DERIVED, **RATES})  # derived first: rates read them
SUMMED = {*COUNTS, *FRACTIONS}
UNIQUES: dict[str, float] = data.spec("uniques")
UNIQUE_METRICS = {"unique_users", "average_impression_frequency_per_user"}
INT64 = {*COUNTS, *data.spec("int64_formulas")}  # answered as JSON strings
CONVERSION_METRICS = set(data.spec("conversion_metrics"))
EVENT_TYPES: dict[str, str] = data.spec("interaction_event_types")
METRIC_RESOURCES: dict[str, list[str]] = data.spec("metric_resources")
UNSEGMENTED = set(data.spec("unsegmented"))
# Not sums: a keyword's score of the range's last day, the customer's or a campaign's now.
QUALITY_METRICS = {"historical_quality_score", *data.QUALITY["components"]}
NOW_METRICS = {"optimization_score_uplift", "optimization_score_url"}
LATEST = QUALITY_METRICS | NOW_METRICS
METRICS = {*SUMMED, *DERIVED, *METRIC_RESOURCES, "interaction_event_types"}
METRICS |= {name for name in RATES if not name.startswith("_")}  # _name: a step
DURING: dict[str, Preset] = load_spec(data.__package__, data.SPEC, "during", dict[str, Preset])


def parse(text: str) -> SelectQuery:
    return parse_select(text, refusal)


def date_range(query: SelectQuery, today: date, start: date) -> tuple[date, date]:
    first, last, bounded = date_span(query, "segments.date", start, today, DURING, refusal)
    if "segments.date" in query.select and not bounded:
        raise refusal("date_filter_needed")
    return first, last


def check(query: SelectQuery) -> dict[str, Any]:
    """The resource's spec, after the API's checks of fields against the resource."""
    spec = RESOURCES.get(query.resource)
    if spec is None:
        raise refusal("resource", resource=query.resource)
    allowed = {*spec["entities"], *spec.get("segments", [])}
    conversion = False
    names = [*query.select, *(w[0] for w in query.where)]
    for name in names:
        if name.startswith("metrics."):
            metric = name.removeprefix("metrics.")
            if metric not in METRICS:
                raise refusal("field", name=name)
            served = METRIC_RESOURCES.get(metric, [query.resource])
            if not spec.get("metrics", True) or query.resource not in served:
                raise refusal("metric_resource", name=name, resource=query.resource)
            if metric in UNSEGMENTED and any(n.startswith("segments.") for n in names):
                raise refusal("unsegmented_metric", name=name)
            continue
        if name not in FIELDS:
            raise refusal("field", name=name)
        entity = FIELDS[name][0]
        conversion |= entity == "conversion"
        if entity not in allowed:
            kind = "segment_resource" if name.startswith("segments.") else "field_resource"
            raise refusal(kind, name=name, resource=query.resource)
    for name in query.select if conversion else []:
        if name.startswith("metrics.") and name.removeprefix("metrics.") not in CONVERSION_METRICS:
            raise refusal("conversion_metric", name=name)
    return spec


def run(cid: str, query: SelectQuery, now: datetime) -> list[dict[str, Any]]:
    """The query's rows as GoogleAdsRow JSON (camelCase, int64 as strings)."""
    spec = check(query)
    customer = data.CUSTOMERS[cid]
    if customer["manager"] and any(f.startswith("metrics.") for f in query.select):
        raise refusal("manager_metrics")
    today = LocalDays(customer["time_zone"]).day_of(now)
    first, last = date_range(query, today, customer["start"])
    attributes = [f for f in query.select if not f.startswith("metrics.")]
    metric_names = [f.removeprefix("metrics.") for f in query.select if f.startswith("metrics.")]
    days = (last - first).days + 1
    if UNIQUE_METRICS & set(metric_names) and days > UNIQUES["max_days"]:
        raise refusal("uniques_range", days=UNIQUES["max_days"])
    conversion = any(FIELDS.get(f, [""])[0] == "conversion" for f in attributes)
    split_by = "conversion" if conversion else spec.get("split")
    whole = spec["entities"] == ["customer"]
    by_device = any(n == "segments.device" for n in [*attributes, *(w[0] for w in query.where)])
    filters = [(n, op, v) for n, op, v in query.where if n != "segments.date" and n in FIELDS]
    # Each row: its attributes, and its metrics' parts summed over its cells or, for those
    # that are no sums (LATEST), as the latest cell (days ascend) or the entity has them.
    groups: dict[tuple[str, ...], tuple[dict[str, Any], dict[str, Any]]] = {}
    channels = spec.get("channels")
    scored = bool(QUALITY_METRICS & set(metric_names))
    now_asked = bool(NOW_METRICS & set(metric_names))
    now_only = now_asked and set(metric_names) <= NOW_METRICS
    if now_only or not metric_names:
        # Rows without a day to read: attributes only, or "now" figures of each customer
        # or campaign.
        for i, entities in enumerate(_entities(cid, spec["entities"][-1])):
            if all(matches(_attribute(entities, n), op, v) for n, op, v in filters):
                owner = entities.get("campaign")
                figures = data.optimization(cid, owner, today) if now_only else {}
                groups[(str(i),)] = ({f: _attribute(entities, f) for f in attributes}, figures)
    day = first
    while day <= last and metric_names and not now_only:
        for cell in data.cells(cid, day, now, split_by, by_device, whole):
            entities = cell.entities
            if channels and entities["campaign"]["advertising_channel_type"] not in channels:
                continue
            values = [_attribute(entities, f) for f in attributes]
            if None in values:
                continue  # a segment the cell has no value for (an airport, say)
            if not all(matches(_attribute(entities, n), op, v) for n, op, v in filters):
                continue
            key = tuple(map(str, values))
            sums = groups.setdefault(key, (dict(zip(attributes, values, strict=True)), {}))[1]
            sums["period_days"] = days  # the period's uniques overlap over its days
            for name, amount in cell.values.items():
                sums[name] = sums.get(name, 0.0) + amount
            if scored and "keyword" in entities:
                sums |= data.quality(entities["keyword"], day)
            if now_asked:
                owner = entities.get("campaign") if query.resource == "campaign" else None
                sums |= data.optimization(cid, owner, today)
        day += timedelta(days=1)
    rows = [_row(values, sums, metric_names) for values, sums in groups.values()]
    rows = [
        r
        for r in rows
        if all(matches(get(r, n), op, v) for n, op, v in query.where if n.startswith("metrics."))
    ]
    return ordered(rows, query, get)


def _attribute(entities: dict[str, Any], name: str) -> Any:
    entity, key = FIELDS[name]
    return (entities.get(entity) or {}).get(key)


def _entities(cid: str, kind: str) -> list[dict[str, Any]]:
    """A resource's rows without metrics: campaigns, ad groups, a manager's clients
    (customer_client: itself at level 0, then down its hierarchy), geo targets."""
    customer = data.CUSTOMERS[cid]
    if kind == "campaign":
        return [{"customer": customer, "campaign": c} for c in data.CAMPAIGNS[cid]]
    if kind == "ad_group":
        return [
            {"customer": customer, "campaign": g.campaign, "ad_group": g.entity}
            for g in data.AD_GROUPS[cid]
        ]
    if kind == "geo":
        return [{"geo": data.geo(target)} for target in data.GEO_TARGETS]
    if kind == "criterion":
        return data.criteria(cid)
    if kind == "client":
        found, level, todo = [], 0, [cid]
        while todo:
            found += [{"client": data.client(c, level)} for c in todo]
            todo = [k for c in todo for k in data.CUSTOMERS[c].get("clients", [])]
            level += 1
        return found
    return [{"customer": customer}]


def _row(values: dict[str, Any], sums: dict[str, Any], metrics: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, value in values.items():
        int64 = name.endswith((".id", "criterion_id", "duration_millis"))  # JSON strings
        put(row, name, str(value) if int64 else value)
    for name, value in metric_values(metrics, sums).items():
        put(row, "metrics." + name, value)
    return row


def _ratio(numerator: float, denominator: float, scale: float = 1) -> float:
    return round(numerator / denominator * scale, 10) if denominator else 0.0


# The functions of data.yaml's `rates` (its comment says why shares stop at 0.0999, 0.9001).
FUNCTIONS: dict[str, Callable[..., float]] = {
    "ratio": _ratio,
    "share": lambda part, whole: max(_ratio(part, whole), 0.0999) if whole else 0.0,
    "lost_share": lambda part, whole: min(_ratio(part, whole), 0.9001),
    "log": math.log,
}


def metric_values(names: list[str], sums: dict[str, Any]) -> dict[str, Any]:
    """A row's metrics from its sums: summed ones as they are, the others by their
    formulas (LATEST ones as they are); int64 ones as JSON strings, the summed and
    derived ones to 6 digits."""
    values = dict(sums)
    if set(names).intersection(PER_ROW.names):
        given = {**dict.fromkeys(PER_ROW.inputs, 0.0), **UNIQUES, **sums}
        values |= PER_ROW.evaluate(given, FUNCTIONS)
    out: dict[str, Any] = {}
    for name in names:
        value = values.get(name, 0.0)
        if name in LATEST:
            out[name] = sums.get(name)  # none: a keyword without a score
        elif name == "interaction_event_types":
            out[name] = [kind for kind, part in EVENT_TYPES.items() if sums.get(part)] or None
        elif name in INT64:
            out[name] = str(round(value))
        else:
            out[name] = value if name in RATES else round(value, 6)
    return out
