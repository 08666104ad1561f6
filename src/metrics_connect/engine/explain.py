"""`?explain=true`: the plan of a metrics request, without a single upstream call.

The documented body (docs/engine.md, "Explain"): the account's day, each widget
resolved, what the store holds for every need and every fetch the request would make
with the connector's planned calls. A fetch that lists objects (posts) cannot know its
pages and batches before listing; its calls are estimated from the store
(`engine.plan.estimate_objects`) and say so (`estimated`, `estimate.basis`), and the
total splits into exact and estimated calls.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.catalog.loader import Catalog
from metrics_connect.connectors.base import (
    Connector,
    DatasetSpec,
    FetchRequest,
    ObjectEstimate,
    PlannedCall,
)
from metrics_connect.engine.coordinator import fetch_groups, group_calls
from metrics_connect.engine.facts import FactKey, FactSnapshot, FactStore, variant_key
from metrics_connect.engine.model import ResolvedWidget
from metrics_connect.engine.plan import Needs, PlannedFetch, estimate_objects
from metrics_connect.engine.records import RecordsFetch, SyncState
from metrics_connect.networks.registry import days_timezone

# Stored objects this many days before a fetch's first day also inform its estimate.
NEAR_DAYS = 30


async def explain_plan(
    store: FactStore,
    connector: Connector | None,
    integration: CustomerIntegration,
    catalog: Catalog,
    widgets: list[ResolvedWidget],
    needs: Needs,
    snapshot: FactSnapshot,
    fetches: list[PlannedFetch],
    today: date,
) -> dict[str, Any]:
    """The `{"explain": {...}}` body; `connector` is needed only when there are fetches."""
    estimates = await object_estimates(store, integration.id, catalog.datasets, fetches, today)
    planned = (
        [explain_fetch(connector, fetch, estimates.get(i)) for i, fetch in enumerate(fetches)]
        if connector is not None
        else []
    )
    shared = shared_calls(connector, fetches, planned) if connector is not None else []
    return {
        "explain": {
            "integration": {
                "uuid": integration.uuid,
                "slug": catalog.slug,
                "timezone": integration.timezone,
                # The zone the network's days are in: the account's unless the network
                # fixes one; the request's dates are days of this zone.
                "days_timezone": days_timezone(catalog.slug, integration.timezone),
            },
            "account_today": today.isoformat(),
            "widgets": _widgets(widgets),
            "store": _stored(needs, snapshot),
            "fetches": planned,
            "shared_calls": shared,
            **call_totals(planned, shared),
        }
    }


async def object_estimates(
    store: FactStore,
    integration_id: int,
    specs: dict[str, DatasetSpec],
    fetches: list[PlannedFetch],
    today: date,
) -> dict[int, ObjectEstimate]:
    """An estimate per objects fetch (by index in `fetches`), from one read of the
    store: the dataset's objects and coverage near the listed days, and the daily count
    its spec names (`counted_by`)."""
    wanted = [
        (i, fetch)
        for i, fetch in enumerate(fetches)
        if specs[fetch.request.dataset].kind == "objects" and len(fetch.key) == 2
    ]
    if not wanted:
        return {}
    object_keys: set[FactKey] = set()
    count_keys: dict[str, FactKey] = {}
    for _, fetch in wanted:
        object_keys.add((fetch.key[0], fetch.key[1]))
        counted_by = specs[fetch.request.dataset].counted_by
        if counted_by is not None:
            count_keys[fetch.request.dataset] = _count_key(counted_by[0], today)
    first = min(fetch.request.start for _, fetch in wanted) - timedelta(days=NEAR_DAYS)
    held = await store.load(
        integration_id,
        day_keys=sorted(set(count_keys.values())),
        object_keys=sorted(object_keys),
        start=first,
        end=today,
    )
    out: dict[int, ObjectEstimate] = {}
    for i, fetch in wanted:
        key = (fetch.key[0], fetch.key[1])
        count_key = count_keys.get(fetch.request.dataset)
        out[i] = estimate_objects(
            fetch.request,
            specs[fetch.request.dataset],
            today=today,
            objects=held.objects.get(key, []),
            covered=held.coverage.get(key, {}).keys(),
            counts=held.rows.get(count_key, []) if count_key is not None else [],
        )
    return out


def _count_key(dataset: str, today: date) -> FactKey:
    """The stored key of a count's dataset fetched as is (no breakdown, filter, option)."""
    return (dataset, variant_key(FetchRequest(dataset, today, today)))


def explain_fetch(
    connector: Connector, fetch: PlannedFetch, estimate: ObjectEstimate | None
) -> dict[str, Any]:
    calls: list[PlannedCall] = (
        connector.plan_object_calls(fetch.request, estimate)
        if estimate is not None
        else connector.plan_calls(fetch.request)
    )
    estimated = any(c.estimated for c in calls)
    out: dict[str, Any] = {
        "dataset": fetch.request.dataset,
        "variant": fetch.key[1],
        "start": fetch.request.start.isoformat(),
        "end": fetch.request.end.isoformat(),
        "reason": fetch.reason,
        "calls": [_call(c) for c in calls],
        "estimated": estimated,
    }
    if estimated and estimate is not None:
        known = estimate.in_span is not None
        out["estimate"] = {
            "basis": estimate.basis,
            "objects": estimate.in_span,
            "newer_objects": estimate.newer if known else None,
            "older_objects_exist": estimate.older if known else None,
        }
    return out


def _call(call: PlannedCall) -> dict[str, Any]:
    out: dict[str, Any] = {"method": call.method, "path": call.path, "params": dict(call.params)}
    if call.estimated:
        out["estimated"] = True
    return out


def shared_calls(
    connector: Connector, fetches: list[PlannedFetch], planned: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The groups of fetches the connector answers by shared calls (GA4's batches of
    merged reports), as the coordinator runs them: each group's calls once, with the
    indexes of the fetches they answer; those fetches then list no calls of their own
    and name their group (`shared_calls`)."""
    index = {id(fetch): i for i, fetch in enumerate(fetches)}
    out: list[dict[str, Any]] = []
    for group in fetch_groups(connector, fetches):
        if len(group) < 2:
            continue
        members = [index[id(fetch)] for fetch in group]
        for i in members:
            planned[i]["calls"] = []
            planned[i]["shared_calls"] = len(out)
        calls = group_calls(connector, group)
        out.append({"fetches": members, "calls": [_call(c) for c in calls]})
    return out


def call_totals(
    planned: list[dict[str, Any]], shared: list[dict[str, Any]] | None = None
) -> dict[str, int]:
    """`upstream_calls` (all, as before) and its exact and estimated parts; shared
    calls count once."""
    exact = sum(len(f["calls"]) for f in planned if not f.get("estimated"))
    exact += sum(len(group["calls"]) for group in shared or [])
    estimated = sum(len(f["calls"]) for f in planned if f.get("estimated"))
    return {
        "upstream_calls": exact + estimated,
        "upstream_calls_exact": exact,
        "upstream_calls_estimated": estimated,
    }


def _widgets(widgets: list[ResolvedWidget]) -> dict[str, Any]:
    plans: dict[str, Any] = {}
    for widget in widgets:
        if widget.error is not None:
            plans[widget.id] = widget.error.body()
            continue
        plans[widget.id] = {
            "component": widget.component,
            "dimensions": [g.name for g in widget.groups],
            "deprecated": widget.deprecated,
            "metrics": [_node(m) for m in widget.metrics],
        }
    return plans


def _stored(needs: Needs, snapshot: FactSnapshot) -> list[dict[str, Any]]:
    stored: list[dict[str, Any]] = []
    for key, days in sorted(needs.days.items()):
        covered = snapshot.coverage.get(key, {})
        stored.append(
            {
                "dataset": key[0],
                "variant": key[1],
                "days_needed": len(days),
                "days_stored": sum(1 for d in days if d in covered),
                "days_settled": sum(1 for d in days if d in covered and covered[d].settled),
            }
        )
    for pkey in sorted(needs.periods):
        held = snapshot.periods.get(pkey)
        stored.append(
            {
                "dataset": pkey[0],
                "variant": pkey[1],
                "period": [pkey[2].isoformat(), pkey[3].isoformat()],
                "stored": held is not None,
                "settled": bool(held and held.settled),
            }
        )
    return stored


def _node(node: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": node.name, "label": node.label, "unit": node.unit}
    if node.source is not None:
        src = node.source
        out["source"] = {
            "dataset": src.dataset,
            "field": src.field,
            "aggregation": src.aggregation,
            "breakdowns": list(src.breakdowns),
            "variant": src.variant,
        }
        if src.kind == "records":
            # Aggregated at query time over the synced records (docs/records.md).
            out["source"]["records"] = {
                "date_field": src.date_field,
                "duration": list(src.duration) if src.duration else None,
                "filters": [[f.field, f.operator, f.value] for f in src.local_filters],
                "groups": [g.grouping_field or g.kind for g in src.groups],
                "currency_field": src.currency_field,
            }
    if node.ratio is not None:
        out["ratio"] = [_node(node.ratio[0]), _node(node.ratio[1])]
        out["scale"] = node.scale
    if node.sum_of:
        out["sum_of"] = [_node(p) for p in node.sum_of]
    if node.average:
        out["average_per_item"] = True
    return out


def explain_records(
    body: dict[str, Any],
    connector: Connector,
    datasets: set[str],
    states: dict[str, SyncState],
    fetches: list[RecordsFetch],
) -> None:
    """Adds the records plan to an explain body: per records dataset where its sync
    stands and whether the request syncs it first, with the first calls of that sync
    (estimated: how many pages depends on how much changed upstream)."""
    syncing = {f.dataset: f for f in fetches}
    planned: list[dict[str, Any]] = []
    out = body["explain"]
    out["records"] = []
    for name in sorted(datasets):
        state = states.get(name)
        fetch = syncing.get(name)
        entry: dict[str, Any] = {
            "dataset": name,
            "synced_at": state.synced_at.isoformat() if state and state.synced_at else None,
            "backfilled": bool(state and state.backfilled_at),
            "cursor": state.cursor if state else None,
            "sync": fetch.reason if fetch else None,
        }
        if fetch is not None:
            calls = connector.plan_record_calls(name, fetch.cursor)
            entry["calls"] = [_call(c) for c in calls]
            planned.append({"calls": entry["calls"], "estimated": True})
        out["records"].append(entry)
    totals = call_totals(planned)
    out["upstream_calls"] += totals["upstream_calls"]
    out["upstream_calls_estimated"] += totals["upstream_calls_estimated"]
