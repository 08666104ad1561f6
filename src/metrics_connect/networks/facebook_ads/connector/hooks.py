"""Meta Ads on the Meta Graph kit: what streams.yaml cannot say.

One fetch is one Insights query per window: the account's node or, for a single entity
filter, the campaign's, ad set's or ad's own node (an unknown entity is Meta's error
100, so the widget fails alone); `level` from the entity breakdown keys or the `level`
option; Meta's breakdowns; the other filters pushed down as `filtering`. Heavy queries
run as async report runs (streams.yaml). Answers flatten here: numbers come as strings,
`actions` as lists of {action_type, value} (`actions:<type>`), list fields sum.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    Filter,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.meta_graph.connector import GraphConnector
from metrics_connect.connectors.kit.spec import Paginator, Selector, Stream, streams_of

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
# Fields Meta does not serve with hourly breakdowns (unique counts and video metrics).
NOT_HOURLY = frozenset({"reach", *(f for f in GROUPS["daily_lists"] if f.startswith("video_"))})
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
    total: float | int = 0
    seen = False
    for item in items:
        if not isinstance(item, dict):
            continue
        values = item.get("values")
        for part in values if isinstance(values, list) else [item]:
            value = number(part.get("value")) if isinstance(part, dict) else None
            if value is not None:
                total += value
                seen = True
    return total if seen else None


def flatten(
    row: dict[str, Any], numbers: frozenset[str], lists: frozenset[str]
) -> dict[str, Scalar]:
    values: dict[str, Scalar] = {}
    for name, raw in row.items():
        if name in ACTION_LIST_FIELDS and isinstance(raw, list):
            for action_type, count in _actions(raw):
                values[f"{name}:{action_type}"] = count
            continue
        value = number(raw) if name in numbers else list_total(raw) if name in lists else None
        if value is not None:
            values[name] = value
    return values


def _actions(items: Any) -> list[tuple[str, float | int]]:
    out = []
    for item in items or []:
        action_type = item.get("action_type") if isinstance(item, dict) else None
        value = number(item.get("value")) if action_type else None
        if action_type and value is not None:
            out.append((str(action_type), value))
    return out


def action_rows(row: dict[str, Any], unique: bool) -> dict[str, dict[str, Scalar]]:
    """Per action type: {actions, action_values} (or unique_actions) of one response row."""
    out: dict[str, dict[str, Scalar]] = {}
    for list_name in ("unique_actions",) if unique else ACTION_LIST_FIELDS:
        for action_type, value in _actions(row.get(list_name)):
            out.setdefault(action_type, {})[list_name] = value
    return out


class FacebookAdsConnector(GraphConnector):
    slug: ClassVar[str] = "facebook_ads"
    streams = STREAMS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.ctx.external_id
        self.account_node = account if account.startswith("act_") else f"act_{account}"
        self._attributes: dict[str, dict[str, str]] | None = None

    async def account_info(self) -> AccountInfo:
        body = await self.client.get(self.account_node, {"fields": "name,timezone_name,currency"})
        return AccountInfo(
            name=str(body.get("name") or self.account_node),
            timezone=str(body.get("timezone_name") or self.ctx.timezone),
            currency=str(body["currency"]) if body.get("currency") else None,
        )

    # --- the query of a fetch ---

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
        options = dict(request.options)
        wanted = [EXTRA["entity_keys"][b] for b in request.breakdowns if b in EXTRA["entity_keys"]]
        wanted += [options["level"]] if options.get("level") in LEVELS else []
        level = max([node_level, *wanted], key=LEVELS.index)
        breakdowns = [b for b in request.breakdowns if b in META_BREAKDOWNS]
        hourly = any(b in HOURLY for b in breakdowns)
        if request.dataset == "insights_daily":
            fields = [
                f
                for f in (
                    "reach",
                    *GROUPS["daily_numbers"],
                    *GROUPS["daily_lists"],
                    *ACTION_LIST_FIELDS,
                )
                if not (hourly and f in NOT_HOURLY)
            ]
        elif request.dataset == "actions_daily":
            fields = list(ACTION_LIST_FIELDS)
        else:
            fields = [*GROUPS["period_numbers"], *GROUPS["period_lists"]]
            fields += ["unique_actions"] if "action_type" in request.breakdowns else []
        for lvl in LEVELS[: LEVELS.index(level) + 1]:
            fields += LEVEL_ATTRIBUTES[lvl]
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
        value: Any = _values(flt.value)
        if operator in ("EQUAL", "NOT_EQUAL", "CONTAIN", "NOT_CONTAIN"):
            value = value[0]
        return {"field": field, "operator": operator, "value": value}

    def expected_rows(self, request: FetchRequest, call: Call) -> int:
        """The query's weight: days x values of each breakdown x entities of the level."""
        if "level" not in call.params or call.window is None:
            return 0
        first, last = call.window
        rows = (last - first).days + 1 if call.params["time_increment"] == "1" else 1
        for name in filter(None, call.params.get("breakdowns", "").split(",")):
            rows *= EXTRA["breakdown_weight"].get(name, 10)
        return rows * int(EXTRA["level_weight"][call.params["level"]])

    # --- answers as rows ---

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
            answer = await self.run(request, call)
            level = call.params["level"]
            attributes = await self._entity_attributes() if level != "account" else {}
            for item in answer.records:
                result.rows.extend(self._rows(request, item, attributes))
        result.incomplete_days |= self.incomplete(request)
        return result

    def _snapshot_row(self, body: dict[str, Any]) -> Row:
        # The ad account's money fields are strings in the currency's minor unit.
        values: dict[str, Scalar] = {}
        for name in ("amount_spent", "balance", "spend_cap"):
            cents = number(body.get(name))
            if cents is not None:
                values[name] = cents / 100
        cap = values.get("spend_cap")
        if isinstance(cap, float) and cap > 0:
            spent = float(values.get("amount_spent") or 0) + float(values.get("balance") or 0)
            values["available_balance"] = round(cap - spent, 2)
        return Row(day=self.today(), keys={}, values=values)

    async def _entity_attributes(self) -> dict[str, dict[str, str]]:
        """Campaign and ad attributes by id (status, dates, creative URLs and UTMs),
        listed once per connector."""
        if self._attributes is not None:
            return self._attributes
        found: dict[str, dict[str, str]] = {}
        fields = "id,effective_status,start_time,stop_time"
        for c in await self._list(f"{self.account_node}/campaigns", fields):
            found[str(c["id"])] = {
                "status": str(c.get("effective_status") or ""),
                "start_time": str(c.get("start_time") or ""),
                "stop_time": str(c.get("stop_time") or ""),
            }
        fields = "id,created_time,updated_time,creative{object_type,url_tags,link_url}"
        for ad in await self._list(f"{self.account_node}/ads", fields):
            creative = ad.get("creative") or {}
            link = str(creative.get("link_url") or "")
            attrs = {
                "created_time": str(ad.get("created_time") or ""),
                "updated_time": str(ad.get("updated_time") or ""),
                "creative_media_type": str(creative.get("object_type") or ""),
                "destination_urls": link,
            }
            attrs.update(_utm(link))
            attrs.update({f"{k}_tag": v for k, v in _utm(creative.get("url_tags")).items()})
            found[str(ad["id"])] = {k: v for k, v in attrs.items() if v}
        self._attributes = found
        return found

    async def _list(self, path: str, fields: str) -> list[dict[str, Any]]:
        return (await self.client.paged("GET", path, {"fields": fields}, LISTING, Selector()))[0]

    def _rows(
        self, request: FetchRequest, item: dict[str, Any], attributes: dict[str, dict[str, str]]
    ) -> list[Row]:
        kind = STREAMS.datasets[request.dataset].kind
        keys = {name: str(item[name]) for name in request.breakdowns if name in item}
        for lvl in LEVELS:
            for name in LEVEL_ATTRIBUTES[lvl]:
                if item.get(name) not in (None, ""):
                    keys[name] = str(item[name])
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
        return [Row(day=day, keys=keys, values=values)]
