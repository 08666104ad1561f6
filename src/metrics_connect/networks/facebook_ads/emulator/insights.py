"""The Insights API's query semantics over the raw truth: parameters in, rows out, as
the Marketing API Insights reference says (docs/networks/facebook_ads.md lists them)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from metrics_connect.networks.facebook_ads.emulator.data import (
    BREAKDOWN_KEYS,
    AdsData,
    Cell,
    Facts,
    action_count,
    group_for,
)
from metrics_connect.networks.facebook_ads.emulator.entities import (
    ACCOUNT,
    ADS,
    ADS_BY_ID,
    ADSETS_BY_ID,
    CAMPAIGNS_BY_ID,
    SPEC,
    Ad,
)
from metrics_connect.sandbox.kit.calendar import days_between
from metrics_connect.sandbox.kit.meta_graph import GraphError, docs_link
from metrics_connect.sandbox.kit.periods import Preset, Unit, buckets
from metrics_connect.sandbox.kit.spec import load_spec
from metrics_connect.sandbox.kit.templates import fill_present

LEVELS = ("account", "campaign", "adset", "ad")
MAX_MONTHS_BACK = 37
# time_increment by its bucket unit (the others: a number of days).
INCREMENT_UNITS: dict[str, Unit] = {"monthly": "month", "all_days": "all"}


@dataclass(frozen=True)
class Formula:
    """A computed field (`insights.computed` of data.yaml, where the forms are told)."""

    of: str
    per: str | None = None
    scale: float = 1.0
    money: bool = False
    whole: bool = False
    needs_of: bool = False
    action_type: str | None = None

    def value(self, f: Facts, of: str, per: str | None) -> str | None:
        if per is not None:
            if not f.get(per) or (self.needs_of and of not in f):
                return None
            ratio = f.get(of, 0) * self.scale / f[per]
            return str(round(ratio)) if self.whole else f"{ratio:.6f}"
        if not f.get(of):
            return None
        return f"{f[of] / 100:.2f}" if self.money else str(round(f[of] * self.scale))

    def items(self, f: Facts) -> list[dict[str, str]]:
        if self.action_type != "*":
            value = self.value(f, self.of, self.per)
            return [] if value is None else [{"action_type": str(self.action_type), "value": value}]
        wild = self.of if self.of.endswith("*") else str(self.per)
        out = []
        for key in sorted(f):
            if key.startswith(wild[:-1]):
                value = self.value(
                    f, key if wild == self.of else self.of, key if wild == self.per else self.per
                )
                if value is not None:
                    out.append({"action_type": key[len(wild) - 1 :], "value": value})
        return out


@dataclass(frozen=True)
class FieldSpec:
    computed: dict[str, Formula]
    attributes: dict[str, dict[str, Any]]  # by level
    empty: frozenset[str]
    window_shares: dict[str, float]
    presets: dict[str, Preset]


FIELDS: FieldSpec = load_spec(__package__, SPEC, "insights", FieldSpec)
RESULT_FIELDS = ("results", "cost_per_result")
ATTRIBUTES = {name for templates in FIELDS.attributes.values() for name in templates}
VALID_FIELDS = FIELDS.computed.keys() | ATTRIBUTES | FIELDS.empty | set(RESULT_FIELDS)
PARAMETER_ERRORS: dict[str, str] = load_spec(__package__, SPEC, "parameter_errors", dict[str, str])


@dataclass
class InsightsQuery:
    node_id: str  # act_..., campaign, ad set or ad id
    fields: list[str]
    level: str
    since: date
    until: date
    time_increment: str  # "1".."90", "monthly", "all_days"
    breakdowns: list[str] = field(default_factory=list)
    filtering: list[dict[str, Any]] = field(default_factory=list)
    attribution_windows: list[str] = field(default_factory=list)


def refused(error: str, /, code: int = 100, **values: Any) -> GraphError:
    """A parameter refused with Meta's text (`parameter_errors` of data.yaml)."""
    text = PARAMETER_ERRORS[error].format(docs=docs_link(""), **values)
    return GraphError(400, code, f"(#{code}) {text}")


def _json_or_csv(raw: str | None) -> list[str]:
    raw = (raw or "").strip()
    if raw.startswith("["):
        try:
            return [str(v) for v in json.loads(raw)]
        except json.JSONDecodeError as exc:
            raise refused("invalid_json", raw=raw) from exc
    return [part.strip() for part in raw.split(",") if part.strip()]


def parse_query(node_id: str, params: Mapping[str, str], today: date) -> InsightsQuery:
    fields = _json_or_csv(params.get("fields")) or ["impressions", "spend"]
    for name in fields:
        if name not in VALID_FIELDS:
            raise refused("field", name=name)
    scopes = (("account", {ACCOUNT.id}), ("campaign", CAMPAIGNS_BY_ID), ("adset", ADSETS_BY_ID))
    node_level = next((level for level, ids in scopes if node_id in ids), "ad")
    level = params.get("level") or node_level
    if level not in LEVELS:
        raise refused("level")
    if LEVELS.index(level) < LEVELS.index(node_level):
        raise refused("level_above", level=level)
    if params.get("time_range"):
        try:
            time_range = json.loads(params["time_range"])
            since = date.fromisoformat(time_range["since"])
            until = date.fromisoformat(time_range["until"])
        except (ValueError, KeyError, TypeError) as exc:
            raise refused("time_range") from exc
    else:
        preset = params.get("date_preset") or "last_30d"
        if preset not in FIELDS.presets:
            raise refused("date_preset", values=", ".join(FIELDS.presets))
        since, until = FIELDS.presets[preset].range(today)
    if since > until:
        raise refused("time_range_order")
    if since < today - timedelta(days=round(MAX_MONTHS_BACK * 30.44)):
        raise refused("time_range_start", code=3018, months=MAX_MONTHS_BACK)
    increment = params.get("time_increment") or "all_days"
    if increment not in INCREMENT_UNITS and not (increment.isdigit() and 1 <= int(increment) <= 90):
        raise refused("time_increment")
    breakdowns = _json_or_csv(params.get("breakdowns"))
    for i, name in enumerate(breakdowns):
        if name not in BREAKDOWN_KEYS:
            raise refused("breakdown", index=i, values=", ".join(sorted(BREAKDOWN_KEYS)))
    try:
        group_for(breakdowns)
    except ValueError as exc:
        columns = ", ".join(["action_type", *breakdowns])
        raise refused("breakdown_combination", columns=columns) from exc
    if (_json_or_csv(params.get("action_breakdowns")) or ["action_type"]) != ["action_type"]:
        raise refused("action_breakdowns")
    filtering: list[dict[str, Any]] = []
    if params.get("filtering"):
        try:
            filtering = json.loads(params["filtering"])
            assert isinstance(filtering, list)
            assert all({"field", "operator"} <= set(f) for f in filtering)
        except (ValueError, AssertionError) as exc:
            raise refused("filtering") from exc
    windows = _json_or_csv(params.get("action_attribution_windows"))
    for window in windows:
        if window not in FIELDS.window_shares and window != "default":
            raise refused("windows", values=", ".join([*FIELDS.window_shares, "default"]))
    return InsightsQuery(
        node_id, fields, level, since, until, increment, breakdowns, filtering, windows
    )


# --- filtering -----------------------------------------------------------------------

ENTITY_FILTERS: dict[str, Callable[[Ad], str]] = {
    "campaign.id": lambda ad: ad.campaign_id,
    "adset.id": lambda ad: ad.adset_id,
    "ad.id": lambda ad: ad.id,
    "campaign.name": lambda ad: CAMPAIGNS_BY_ID[ad.campaign_id].name,
    "adset.name": lambda ad: ADSETS_BY_ID[ad.adset_id].name,
    "ad.name": lambda ad: ad.name,
}
OPERATORS: dict[str, Callable[[str, list[str]], bool]] = {
    "EQUAL": lambda actual, values: actual == values[0],
    "NOT_EQUAL": lambda actual, values: actual != values[0],
    "IN": lambda actual, values: actual in values,
    "NOT_IN": lambda actual, values: actual not in values,
    "CONTAIN": lambda actual, values: values[0].lower() in actual.lower(),
    "NOT_CONTAIN": lambda actual, values: values[0].lower() not in actual.lower(),
}


def _matches(actual: str, operator: str, value: Any) -> bool:
    values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if operator not in OPERATORS:
        raise refused("filter_operator", operator=operator)
    return OPERATORS[operator](actual, values)


@dataclass
class Row:
    entity_id: str
    start: date
    stop: date
    breakdown: tuple[str, ...]
    cells: list[Cell]


def compute_rows(data: AdsData, query: InsightsQuery) -> list[Row]:
    ad_ids = data.ads_of(query.node_id)
    cell_filters: list[tuple[str, str, Any]] = []
    action_filters: list[tuple[str, Any]] = []
    for f in query.filtering:
        name, operator, value = f["field"], f["operator"], f.get("value")
        if name in ENTITY_FILTERS:
            attribute = ENTITY_FILTERS[name]
            ad_ids = [a for a in ad_ids if _matches(attribute(ADS_BY_ID[a]), operator, value)]
        elif name in BREAKDOWN_KEYS:
            cell_filters.append((name, operator, value))
        elif name == "action_type":
            action_filters.append((operator, value))
        else:
            raise refused("filter_field", name=name)
    # Filters on breakdown fields slice the cells of their group, breakdown asked or not.
    try:
        group = group_for(query.breakdowns + [name for name, _, _ in cell_filters])
    except ValueError as exc:
        raise refused("filter_family") from exc

    def keep(cell: Cell) -> bool:
        return all(_matches(cell.values.get(n, ""), o, v) for n, o, v in cell_filters)

    cells = data.slice_cells(
        query.since, query.until, ad_ids, group=group, where=keep if cell_filters else None
    )
    if action_filters:
        # Cells are shared with the data's cache: build filtered copies.
        def kept(key: str) -> bool:
            return not key.startswith(("a:", "v:", "ua:")) or all(
                _matches(key.split(":", 1)[1], o, v) for o, v in action_filters
            )

        cells = [
            replace(
                c, vector=tuple(v if kept(k) else 0 for k, v in zip(c.keys, c.vector, strict=True))
            )
            for c in cells
        ]
    unit = INCREMENT_UNITS.get(query.time_increment) or int(query.time_increment)
    spans = buckets(query.since, query.until, unit)
    bucket_of = {day: span for span in spans for day in days_between(*span)}
    grouped: dict[tuple[str, tuple[date, date], tuple[str, ...]], list[Cell]] = {}
    for cell in cells:
        values = tuple(cell.values.get(b, "") for b in query.breakdowns)
        key = (_entity_at(cell.ad_id, query.level), bucket_of[cell.day], values)
        grouped.setdefault(key, []).append(cell)
    return [
        Row(entity, start, stop, values, row_cells)
        for (entity, (start, stop), values), row_cells in sorted(grouped.items())
    ]


def _entity_at(ad_id: str, level: str) -> str:
    ad = ADS_BY_ID[ad_id]
    return {"account": ACCOUNT.id, "campaign": ad.campaign_id, "adset": ad.adset_id}.get(
        level, ad.id
    )


def estimated_cells(data: AdsData, query: InsightsQuery) -> int:
    """How heavy a query is (ads x days x breakdown cells), to refuse large sync queries."""
    days = (query.until - query.since).days + 1
    ads = len(data.ads_of(query.node_id))
    group = group_for(query.breakdowns)
    per_day = len(group.cells(ADS[0])) if group else 1
    return days * ads * per_day


# --- formatting ----------------------------------------------------------------------


def _attributes(row: Row, level: str) -> dict[str, Any]:
    ad = ADS_BY_ID[row.cells[0].ad_id]
    adset = ADSETS_BY_ID[ad.adset_id]
    values = {
        "account": ACCOUNT,
        "campaign": CAMPAIGNS_BY_ID[ad.campaign_id],
        "adset": adset,
        "ad": ad,
        "start": row.start,
        "stop": row.stop,
        "gender": {(): "All", (1,): "Male", (2,): "Female"}.get(adset.genders, "All"),
        "labels": ",".join(ad.labels) or None,
    }
    templates: dict[str, Any] = {}
    for above in LEVELS[: LEVELS.index(level) + 1]:
        templates.update(FIELDS.attributes[above])
    return dict(fill_present(templates, values))


def _results(cells: list[Cell], with_cost: bool) -> list[dict[str, Any]]:
    by_indicator: dict[str, list[int]] = {}
    for cell in cells:
        action = ADSETS_BY_ID[ADS_BY_ID[cell.ad_id].adset_id].result_action
        count_spend = by_indicator.setdefault(f"actions:{action}", [0, 0])
        count_spend[0] += action_count(cell, action)
        count_spend[1] += cell.get("spend")
    out = []
    for indicator, (count, spend) in sorted(by_indicator.items()):
        if with_cost and not count:
            continue
        value = f"{spend * 0.01 / count:.6f}" if with_cost else str(count)
        out.append({"indicator": indicator, "values": [{"value": value}]})
    return out


def format_row(row: Row, query: InsightsQuery) -> dict[str, Any]:
    facts = AdsData.totals(row.cells)
    out: dict[str, Any] = {}
    attributes: dict[str, Any] | None = None
    windows = [w for w in query.attribution_windows if w != "default"]
    for name in query.fields:
        formula = FIELDS.computed.get(name)
        if formula is not None and formula.action_type is None:
            value = formula.value(facts, formula.of, formula.per)
            if value is not None:
                out[name] = value
        elif formula is not None:
            items = formula.items(facts)
            if name in ("actions", "action_values"):
                for item, window in itertools.product(items, windows):
                    number = float(item["value"]) * FIELDS.window_shares[window]
                    item[window] = f"{number:.2f}" if formula.money else str(round(number))
            if items:
                out[name] = items
        elif name in RESULT_FIELDS:
            out[name] = _results(row.cells, with_cost=name == "cost_per_result")
        elif name in ATTRIBUTES:
            attributes = attributes or _attributes(row, query.level)
            if attributes.get(name) is not None:
                out[name] = attributes[name]
    out.update(zip(query.breakdowns, row.breakdown, strict=True))
    out["date_start"] = row.start.isoformat()
    out["date_stop"] = row.stop.isoformat()
    return out
