"""Meta Ads on the Meta Graph kit: one Insights query per window (streams.yaml), on the
account's node or a single filtered entity's own (an unknown one is Meta's error 100, so
the widget fails alone); its rows flattened and joined to their entities' attributes."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from metrics_connect.connectors.base import (
    FetchRequest,
    FetchResult,
    Filter,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.meta_graph.connector import GraphConnector
from metrics_connect.connectors.kit.spec import Paginator, Selector, Stream, dig, streams_of

STREAMS = streams_of(__file__)
GROUPS = STREAMS.field_groups
EXTRA = STREAMS.extra
META_BREAKDOWNS = tuple(b for group in EXTRA["meta_breakdowns"] for b in GROUPS[group])
HOURLY = frozenset(GROUPS["hourly"])
LEVEL_ATTRIBUTES: dict[str, list[str]] = EXTRA["level_attributes"]
LEVELS = tuple(LEVEL_ATTRIBUTES)
DAILY_NUMBERS = frozenset({"reach", *GROUPS["daily_numbers"]})
DAILY_LISTS = frozenset(GROUPS["daily_lists"])
PERIOD_NUMBERS = frozenset(GROUPS["period_numbers"])
PERIOD_LISTS = frozenset(GROUPS["period_lists"])
REACH_OMITTED = "reach_omitted"
OPT_IN_BREAKDOWNS = frozenset(EXTRA["opt_in"]["breakdowns"])
INVALID_FIELD = re.compile(r"\(#100\) (\w+) is not valid for fields param")
REQUIRED_FIELDS = frozenset(EXTRA["required_fields"])
ACTION_LIST_FIELDS = ("actions", "action_values")
LISTING = Paginator(type="cursor", page_size=500, merge_next_query=True)


def _values(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple | set) else [str(value)]


def _utm(url: str | None) -> dict[str, str]:
    if not url:
        return {}
    query = urlsplit(url).query if "?" in url or "://" in url else url
    return {k: v for k, v in parse_qsl(query) if k.startswith("utm_")}


def number(raw: Any) -> float | int | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return raw
    text = str(raw)
    try:
        return float(text) if "." in text or "e" in text or "E" in text else int(text)
    except ValueError:
        return None


def list_total(items: Any) -> float | int | None:
    """The sum of a list field's values (results: of each indicator's values)."""
    if not isinstance(items, list):
        return None
    dicts = [i for i in items if isinstance(i, dict)]
    parts = [p for i in dicts for p in (i["values"] if isinstance(i.get("values"), list) else [i])]
    found = [v for p in parts if isinstance(p, dict) and (v := number(p.get("value"))) is not None]
    return sum(found) if found else None


def flatten(
    row: dict[str, Any], numbers: frozenset[str], lists: frozenset[str]
) -> dict[str, Scalar]:
    values: dict[str, Scalar] = {}
    for name, raw in row.items():
        if name in ACTION_LIST_FIELDS and isinstance(raw, list):
            values |= {f"{name}:{action_type}": count for action_type, count in _actions(raw)}
            continue
        value = number(raw) if name in numbers else list_total(raw) if name in lists else None
        if value is not None:
            values[name] = value
    return values


def _actions(items: Any) -> list[tuple[str, float | int]]:
    pairs = [(i.get("action_type"), i.get("value")) for i in items or [] if isinstance(i, dict)]
    return [(str(t), v) for t, raw in pairs if t and (v := number(raw)) is not None]


def action_rows(row: dict[str, Any], unique: bool) -> dict[str, dict[str, Scalar]]:
    """Per action type: {actions, action_values} (or unique_actions) of one response row."""
    out: dict[str, dict[str, Scalar]] = {}
    for list_name in ("unique_actions",) if unique else ACTION_LIST_FIELDS:
        for action_type, value in _actions(row.get(list_name)):
            out.setdefault(action_type, {})[list_name] = value
    return out


def creative_link(creative: dict[str, Any]) -> str:
    """An ad's destination URL: the first that streams.yaml's `destination_urls` find."""
    urls = EXTRA["destination_urls"]
    links = [dig(creative, path) for path in urls["paths"]]
    links += [(entry or {}).get(urls["feed_field"]) for entry in dig(creative, urls["feed"]) or []]
    return str(next((link for link in links if link), ""))


class FacebookAdsConnector(GraphConnector):
    slug: ClassVar[str] = "facebook_ads"
    streams = STREAMS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._attributes: dict[str, dict[str, str]] | None = None
        # Insights fields this account does not have (Meta refused them as invalid).
        self._refused_fields: set[str] = set(EXTRA["account_specific_fields"])

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        node, node_level = self.account_node, "account"
        filtering: list[dict[str, Any]] = []
        for flt in request.filters:
            filtering.append(self._filter(flt))
            if flt.field in EXTRA["entity_filters"] and node_level == "account":
                ids = _values(flt.value)
                if flt.operator.upper() in ("EQUAL", "IN") and len(ids) == 1:
                    node, node_level = ids[0], EXTRA["entity_filters"][flt.field]
                    filtering.pop()
        wanted = [EXTRA["entity_keys"][b] for b in request.breakdowns if b in EXTRA["entity_keys"]]
        option = dict(request.options).get("level")
        wanted += [option] if option in LEVELS else []
        level = max([node_level, *wanted], key=LEVELS.index)
        breakdowns = [b for b in request.breakdowns if b in META_BREAKDOWNS]
        asked = EXTRA["asked_fields"].get(request.dataset, EXTRA["asked_fields"]["default"])
        fields = [f for name in asked["fields"] for f in GROUPS.get(name, [name])]
        if any(b in HOURLY for b in breakdowns):
            fields = [f for f in fields if f not in asked.get("not_hourly", ())]
        fields += asked.get("with_action_type", []) if "action_type" in request.breakdowns else []
        for lvl in LEVELS[: LEVELS.index(level) + 1]:
            fields += LEVEL_ATTRIBUTES[lvl]
        fields = [f for f in fields if f not in self._refused_fields]
        return super().variables(request, stream) | {
            "node": node,
            "fields": ",".join(fields),
            "level": level,
            "meta_breakdowns": ",".join(breakdowns),
            "filtering": json.dumps(filtering) if filtering else "",
        }

    @staticmethod
    def _filter(flt: Filter) -> dict[str, Any]:
        operator = flt.operator.upper()
        if flt.field in EXTRA["entity_filters"]:
            field = f"{EXTRA['entity_filters'][flt.field]}.id"
        elif flt.field in META_BREAKDOWNS or flt.field == "action_type":
            field = flt.field
        else:
            raise UpstreamError(f"Meta Ads cannot filter insights by {flt.field!r}")
        values = _values(flt.value)
        single = operator in ("EQUAL", "NOT_EQUAL", "CONTAIN", "NOT_CONTAIN")
        return {"field": field, "operator": operator, "value": values[0] if single else values}

    def expected_rows(self, request: FetchRequest, call: Call) -> int:
        """The query's weight: days x values of each breakdown x entities of the level."""
        if "level" not in call.params or call.window is None:
            return 0
        first, last = call.window
        rows = (last - first).days + 1 if call.params["time_increment"] == "1" else 1
        for name in filter(None, call.params.get("breakdowns", "").split(",")):
            rows *= EXTRA["breakdown_weight"].get(name, 10)
        return rows * int(EXTRA["level_weight"][call.params["level"]])

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        """The account snapshot (insights rows need the entity attributes: see fetch)."""
        return FetchResult(rows=[self._snapshot_row(a.body) for a in answers])

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if request.dataset == "account_snapshot":
            return await super().fetch(request)
        # Each window's rows carry the attributes of their campaigns and ads, listed
        # once, after the first window that needs them.
        result = FetchResult()
        for call in self.plan(request):
            # Fields exist only for some accounts (adjusted_offline_purchase...): one Meta
            # calls invalid is left out of this and every later query of the connector.
            fewer, refused = self._without_invalid, self._refused_fields
            answer = await self.run_asking_fewer(request, call, "fields", fewer, refused)
            level = call.params["level"]
            attributes = await self._entity_attributes() if level != "account" else {}
            for item in answer.records:
                result.rows.extend(self._rows(request, item, attributes))
            self._note_reach_omitted(request, call, answer, result)
        self._check_opt_in(request, result)
        result.incomplete_days |= self.incomplete(request)
        return result

    def _without_invalid(self, asked: tuple[str, ...], message: str) -> tuple[str, ...]:
        refused = INVALID_FIELD.search(message)
        if refused is None or refused.group(1) not in asked or refused.group(1) in REQUIRED_FIELDS:
            return asked
        return tuple(f for f in asked if f != refused.group(1))

    def _note_reach_omitted(
        self, request: FetchRequest, call: Call, answer: Answer, result: FetchResult
    ) -> None:
        """Meta omits reach (and frequency, cpp) from synchronous queries with breakdowns
        whose start is more than 13 months old: those days (or that period) carry the
        note "reach_omitted" instead of passing a missing reach off as exact."""
        asked = "reach" in call.params.get("fields", "").split(",")
        # (An async report run still answers it.)
        answered = any("reach" in record for record in answer.records)
        if not asked or not call.params.get("breakdowns") or call.window is None or answered:
            return
        first, last = call.window
        if first >= self.today() - timedelta(days=round(EXTRA["reach_breakdown_months"] * 30.44)):
            return
        if STREAMS.datasets[request.dataset].kind == "period":
            result.notes.add(REACH_OMITTED)
            return
        for offset in range((last - first).days + 1):
            result.day_notes.setdefault(first + timedelta(days=offset), set()).add(REACH_OMITTED)

    def _check_opt_in(self, request: FetchRequest, result: FetchResult) -> None:
        """No rows for an opt-in breakdown (streams.yaml) is that, not a period without
        delivery."""
        asked = OPT_IN_BREAKDOWNS & set(request.breakdowns)
        if asked and not result.rows and self.today() >= EXTRA["opt_in"]["from"]:
            refusal = EXTRA["opt_in"]["refusal"]
            raise UpstreamError(refusal.format(breakdowns=", ".join(sorted(asked))))

    def _snapshot_row(self, body: dict[str, Any]) -> Row:
        # The ad account's money fields are strings in the currency's minor unit.
        cents = {name: number(body.get(name)) for name in ("amount_spent", "balance", "spend_cap")}
        values: dict[str, Scalar] = {k: v / 100 for k, v in cents.items() if v is not None}
        cap = values.get("spend_cap")
        if isinstance(cap, float) and cap > 0:
            spent = float(values.get("amount_spent") or 0) + float(values.get("balance") or 0)
            values["available_balance"] = round(cap - spent, 2)
        return Row(day=self.today(), keys={}, values=values)

    async def _entity_attributes(self) -> dict[str, dict[str, str]]:
        """Campaign and ad attributes by id (streams.yaml), listed once per connector."""
        if self._attributes is not None:
            return self._attributes
        found: dict[str, dict[str, str]] = {}
        listed: dict[str, dict[str, str]] = EXTRA["object_attributes"]
        for edge in ("campaigns", "ads"):
            fields = ",".join(["id", *listed[edge].values(), *EXTRA["listing_fields"][edge]])
            for item in await self._list(f"{self.account_node}/{edge}", fields):
                attrs = {k: str(item.get(f) or "") for k, f in listed[edge].items()}
                found[str(item["id"])] = attrs if edge == "campaigns" else self._ad(item, attrs)
        self._attributes = found
        return found

    @staticmethod
    def _ad(ad: dict[str, Any], attrs: dict[str, str]) -> dict[str, str]:
        """An ad's attributes with its creative's: media type, destination URL, UTMs."""
        creative = ad.get("creative") or {}
        link = creative_link(creative)
        attrs["creative_media_type"] = str(creative.get("object_type") or "")
        attrs["destination_urls"] = link
        attrs.update(_utm(link))
        attrs.update({f"{k}_tag": v for k, v in _utm(creative.get("url_tags")).items()})
        return {k: v for k, v in attrs.items() if v}

    async def _list(self, path: str, fields: str) -> list[dict[str, Any]]:
        return (await self.client.paged("GET", path, {"fields": fields}, LISTING, Selector()))[0]

    def _rows(
        self, request: FetchRequest, item: dict[str, Any], attributes: dict[str, dict[str, str]]
    ) -> list[Row]:
        kind = STREAMS.datasets[request.dataset].kind
        keys = {name: str(item[name]) for name in request.breakdowns if name in item}
        attributes_of_levels = [name for lvl in LEVELS for name in LEVEL_ATTRIBUTES[lvl]]
        keys |= {n: str(item[n]) for n in attributes_of_levels if item.get(n) not in (None, "")}
        for entity_id in (item.get("campaign_id"), item.get("ad_id")):
            if entity_id is not None:
                keys.update(attributes.get(str(entity_id), {}))
        day = date.fromisoformat(item["date_start"]) if kind == "daily" else None
        if "action_type" in request.breakdowns:
            return [
                Row(day=day, keys={**keys, "action_type": action}, values=values)
                for action, values in action_rows(item, kind == "period").items()
            ]
        if request.dataset == "insights_period":
            values = flatten(item, PERIOD_NUMBERS, PERIOD_LISTS)
            values["entities"] = 1
        else:
            values = flatten(item, DAILY_NUMBERS, DAILY_LISTS)
            if request.dataset == "actions_daily":
                # Every action type's total, as a table by action_type totals its rows.
                totals = {name: list_total(item.get(name)) for name in ACTION_LIST_FIELDS}
                values |= {name: total for name, total in totals.items() if total is not None}
        return [Row(day=day, keys=keys, values=values)]
