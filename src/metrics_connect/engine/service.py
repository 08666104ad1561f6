"""The engine's entry points: load the request's integration, answer its widgets.

`run_get_data` is what POST /metrics/get-data and the async jobs call:
resolve every widget -> merge needs -> read the store (a few selects) -> fetch what is
missing or stale (planner + coordinator) -> aggregate -> render. Widgets fail one by one.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_connect import clock
from metrics_connect.accounts.lifecycle import mark_unusable, save_credentials, usable
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.accounts.principals import CustomerLike
from metrics_connect.catalog.loader import Catalog, get_catalog
from metrics_connect.connectors.base import (
    Connector,
    DatasetSpec,
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
)
from metrics_connect.connectors.context import connector_for
from metrics_connect.engine.aggregate import Aggregator, Facts, last_only_reads
from metrics_connect.engine.coordinator import FetchCoordinator
from metrics_connect.engine.days import account_today
from metrics_connect.engine.explain import explain_plan, explain_records
from metrics_connect.engine.facts import FactKey, FactSnapshot, FactStore
from metrics_connect.engine.model import ResolvedWidget, WidgetError
from metrics_connect.engine.notes import notes_of
from metrics_connect.engine.plan import NEVER, Needs, PlannedFetch, collect_needs, make_plan
from metrics_connect.engine.progressive import ProgressiveAnswer
from metrics_connect.engine.records import (
    RECORDS_VARIANT,
    RecordsFetch,
    RecordStore,
    plan_records,
)
from metrics_connect.engine.request import GetDataRequest
from metrics_connect.engine.resolve import resolve_widget
from metrics_connect.engine.upstream_cost import charge
from metrics_connect.engine.widget_body import render_one
from metrics_connect.networks.registry import days_timezone
from metrics_connect.runtime import Runtime

ENGINE_SERVICE = "metrics_engine"
FACTS_SERVICE = "facts"
ANSWER_CACHE_ENTRIES = 512
_ANSWER_FIELDS = {"start", "end", "comparison_start", "comparison_end", "metrics"}


@dataclass(frozen=True)
class Prepared:
    """A request's widgets resolved, their needs merged, and how much of them to read."""

    widgets: list[ResolvedWidget]
    needs: Needs
    # Day keys only `last` aggregates read, with their fields (FactStore.load).
    last_only: dict[FactKey, frozenset[str]]
    periods: tuple[tuple[date, date], ...]


@dataclass
class Answer:
    """A request's body (no widget failed), valid for one store version and account day."""

    version: int
    today: date
    body: dict[str, Any]
    # Until when the store as of `version` needs no fetch for it (None: plan again).
    valid_until: datetime | None
    # The body as the API sends it, encoded once on first use.
    encoded: bytes | None = field(default=None, repr=False)


def encode_body(body: dict[str, Any]) -> bytes:
    """JSON exactly as Starlette's JSONResponse renders it."""
    return json.dumps(
        body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


class Engine:
    """The per-process parts of the engine: fact store and fetch coordinator."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        # One store per process, shared with the sync (its archive writes bump the
        # version that the engine's read cache checks).
        shared = runtime.services.get(FACTS_SERVICE)
        self.store = shared if isinstance(shared, FactStore) else FactStore(runtime.db)
        runtime.services[FACTS_SERVICE] = self.store
        # Bodies of recent requests, each valid for one store version.
        self.answers: OrderedDict[tuple[int, str], Answer] = OrderedDict()
        # What the network's quota counted for each integration's latest fetching
        # request (GA4's tokens), for ?explain=true.
        self.quota_seen: OrderedDict[int, dict[str, Any]] = OrderedDict()
        # Widgets resolved and needs merged, by catalog, body and account day.
        self.prepared: OrderedDict[tuple[str, str, date], Prepared] = OrderedDict()
        self.coordinator = FetchCoordinator(
            self.store, runtime.settings.fetch_concurrency, runtime.settings.redis_url
        )
        self.records = RecordStore(self.store)

    def prepare(
        self,
        catalog: Catalog,
        request: GetDataRequest,
        fingerprint: str,
        periods: list[tuple[date, date]],
        today: date,
    ) -> Prepared:
        """The request's widgets resolved and needs merged (memoised: pure in its inputs)."""
        key = (catalog.slug, fingerprint, today)
        cached = self.prepared.get(key)
        if cached is not None:
            self.prepared.move_to_end(key)
            return cached
        widgets = [resolve_widget(catalog, w) for w in request.metrics]
        plans = [plan for w in widgets if w.error is None for plan in w.sources()]
        needs = collect_needs(plans, periods, today) if plans else Needs()
        prepared = Prepared(widgets, needs, last_only_reads(widgets), tuple(periods))
        self.prepared[key] = prepared
        while len(self.prepared) > ANSWER_CACHE_ENTRIES:
            self.prepared.popitem(last=False)
        return prepared

    def connector(self, integration: CustomerIntegration) -> Connector:
        return connector_for(self.runtime, integration)

    async def sync_records(
        self,
        integration: CustomerIntegration,
        zone: str,
        connector: Connector,
        specs: dict[str, DatasetSpec],
        fetches: list[RecordsFetch],
        today: date,
        *,
        read_at: float,
        read_at_wall: datetime,
    ) -> dict[str, UpstreamError]:
        """Bring the request's stale or never-synced records datasets up to date; the
        errors of those that failed, by dataset."""
        day = today.isoformat()
        keys = [(integration.id, f.dataset, RECORDS_VARIANT, day, day) for f in fetches]

        async def work(key: tuple[int, str, str, str, str]) -> None:
            await self.records.sync(integration.id, connector, specs[key[1]], timezone=zone)

        errors = await self.coordinator.run_syncs(
            integration.id,
            keys,
            work,
            budget=getattr(self.runtime.settings, "request_time_budget_seconds", None),
            read_at=read_at,
            read_at_wall=read_at_wall,
        )
        return {key[1]: error for key, error in errors.items()}

    async def read_records(
        self, integration_id: int, datasets: set[str], specs: dict[str, DatasetSpec], zone: str
    ) -> FactSnapshot:
        """The live records of the request's records datasets, as a store read."""
        held = await self.records.load(integration_id, [specs[d] for d in sorted(datasets)], zone)
        return FactSnapshot(records=held, version=await self.store.version())


def engine_for(runtime: Runtime) -> Engine:
    engine = runtime.services.get(ENGINE_SERVICE)
    if engine is None:
        engine = Engine(runtime)
        runtime.services[ENGINE_SERVICE] = engine

        async def _close(rt: Runtime) -> None:
            await engine.coordinator.close()

        runtime.on_shutdown(_close)
    assert isinstance(engine, Engine)
    return engine


# Built once: the statement of every request.
_INTEGRATION_OF_CUSTOMER = select(CustomerIntegration).where(
    CustomerIntegration.uuid == bindparam("uuid"),
    CustomerIntegration.customer_id == bindparam("customer_id"),
)


async def load_request_integration(
    session: AsyncSession, customer: CustomerLike, integration_uuid: str
) -> CustomerIntegration:
    """The customer's integration; IntegrationNotFound if not theirs, IntegrationInactive
    if not active (the API answers 404 and 409 {"status"})."""
    integration: CustomerIntegration | None = await session.scalar(
        _INTEGRATION_OF_CUSTOMER, {"uuid": integration_uuid, "customer_id": customer.id}
    )
    return usable(integration)


async def request_integration(
    runtime: Runtime, customer: CustomerLike, integration_uuid: str
) -> CustomerIntegration:
    """load_request_integration through the auth cache: no database work on a hit."""

    async def load() -> CustomerIntegration | None:
        async with runtime.db.session() as session:
            found: CustomerIntegration | None = await session.scalar(
                _INTEGRATION_OF_CUSTOMER, {"uuid": integration_uuid, "customer_id": customer.id}
            )
        return found

    key = (customer.id, integration_uuid)
    return usable(await runtime.auth_cache.integrations.get_or_load(key, load))


def _periods(request: GetDataRequest) -> list[tuple[date, date]]:
    periods = [(request.start, request.end)]
    if request.comparison_start is not None and request.comparison_end is not None:
        periods.append((request.comparison_start, request.comparison_end))
    return periods


async def _load(
    store: FactStore,
    integration_id: int,
    prepared: Prepared,
    *,
    with_facts: bool = True,
    only: set[FactKey] | None = None,
    skip: set[FactKey] | None = None,
) -> FactSnapshot:
    """The store's part of the request's needs: all of it, or the (dataset, variant)
    keys in `only`, or all but those in `skip`."""
    needs = prepared.needs
    assert needs.span is not None

    def chosen(key: FactKey) -> bool:
        return (only is None or key in only) and (skip is None or key not in skip)

    return await store.load(
        integration_id,
        day_keys=[k for k in needs.day_keys if chosen(k)],
        object_keys=[k for k in needs.object_keys if chosen(k)],
        period_keys=[k for k in needs.periods if chosen((k[0], k[1]))],
        start=needs.span[0],
        end=needs.span[1],
        with_facts=with_facts,
        last_only=prepared.last_only,
        periods=prepared.periods,
    )


def _merged(first: FactSnapshot, second: FactSnapshot) -> FactSnapshot:
    """Two reads of disjoint keys as one; the older version, so that an answer built
    from them is recomputed once rather than reused past a write between the reads."""
    return FactSnapshot(
        coverage={**first.coverage, **second.coverage},
        rows={**first.rows, **second.rows},
        objects={**first.objects, **second.objects},
        periods={**first.periods, **second.periods},
        version=min(first.version, second.version),
        records={**first.records, **second.records},
    )


def _facts(snapshot: FactSnapshot, today: date) -> Facts:
    return Facts(
        today=today,
        rows=snapshot.rows,
        objects=snapshot.objects,
        periods={k: v.rows for k, v in snapshot.periods.items()},
        coverage={k: set(v) for k, v in snapshot.coverage.items()},
        records=snapshot.records,
        **notes_of(snapshot),
    )


def _unserved(slug: str, request: GetDataRequest) -> dict[str, Any]:
    error = WidgetError("unsupported_combination", f"{slug} is not served by this deployment.")
    return {w.id: error.body() for w in request.metrics}


async def run_get_data(
    runtime: Runtime,
    integration: CustomerIntegration,
    request: GetDataRequest,
    *,
    explain: bool = False,
) -> dict[str, Any]:
    """The response body keyed by widget id (or, with explain, the plan)."""
    body, _ = await _answer(runtime, integration, request, explain=explain)
    return dict(body)


async def run_get_data_json(
    runtime: Runtime,
    integration: CustomerIntegration,
    request: GetDataRequest,
    *,
    explain: bool = False,
) -> bytes:
    """run_get_data's body as JSON; a reused answer is encoded once (a warm 87-widget
    dashboard's answer is about 0.5 MB: encoding it was half of the request's CPU)."""
    body, reusable = await _answer(runtime, integration, request, explain=explain)
    if reusable is None:
        return encode_body(body)
    if reusable.encoded is None:
        reusable.encoded = encode_body(body)
    return reusable.encoded


async def _answer(
    runtime: Runtime,
    integration: CustomerIntegration,
    request: GetDataRequest,
    *,
    explain: bool,
) -> tuple[dict[str, Any], Answer | None]:
    """The body, and the cache entry it is (None when it is not kept). Callers must not
    mutate the body."""
    catalog = get_catalog(integration.slug)
    if catalog is None:
        return _unserved(integration.slug, request), None
    engine = engine_for(runtime)
    now = clock.now()
    zone = days_timezone(integration.slug, integration.timezone)
    today = account_today(now, zone)
    periods = _periods(request)
    fingerprint = _fingerprint(request)
    prepared = engine.prepare(catalog, request, fingerprint, periods, today)
    widgets, needs = prepared.widgets, prepared.needs
    plans = bool(needs.templates)
    answer_key = (integration.id, fingerprint)
    cached = engine.answers.get(answer_key)
    if not explain and cached is not None and cached.today == today:
        # An answer whose plan was empty until `valid_until`: the store's version alone
        # says whether it still holds (no coverage read, no planning).
        version = await engine.store.version() if plans else 0
        if (
            cached.version == version
            and cached.valid_until is not None
            and now <= cached.valid_until
        ):
            engine.answers.move_to_end(answer_key)
            return cached.body, cached
    read_at, read_at_wall = time.monotonic(), clock.now()
    # What is stored and when: enough to plan. The facts are read below (while any
    # fetches run), or not at all when an earlier answer serves.
    held = (
        await _load(engine.store, integration.id, prepared, with_facts=False)
        if plans
        else FactSnapshot()
    )
    plan = make_plan(needs, held, catalog.datasets, now=now, today=today) if plans else None
    fetches = plan.fetches if plan is not None else []
    record_states = (
        await engine.records.state(integration.id, needs.records) if needs.records else {}
    )
    record_fetches, records_valid_until = plan_records(
        needs.records, record_states, catalog.datasets, now
    )
    if explain:
        connector = engine.connector(integration) if fetches or needs.records else None
        body = await explain_plan(
            engine.store, connector, integration, catalog, widgets, needs, held, fetches, today
        )
        if needs.records and connector is not None:
            explain_records(body, connector, needs.records, record_states, record_fetches)
        body["explain"]["upstream_quota_last_spent"] = engine.quota_seen.get(integration.id)
        return body, None
    if not fetches and not record_fetches:
        cached = engine.answers.get(answer_key)
        if cached is not None and cached.version == held.version and cached.today == today:
            cached.valid_until = plan.valid_until if plan is not None else None
            if cached.valid_until is not None and records_valid_until is not None:
                cached.valid_until = min(cached.valid_until, records_valid_until)
            engine.answers.move_to_end(answer_key)
            return cached.body, cached

    failures: dict[Any, WidgetError] = {}
    snapshot = held
    comparison = periods[1] if len(periods) > 1 else None
    record_errors: dict[str, UpstreamError] = {}
    read_records: FactSnapshot | None = None
    if needs.records:
        # Records first: kept current by an incremental sync, then read whole.
        if record_fetches:
            connector = engine.connector(integration)
            issued = dict(connector.ctx.credentials)
            record_errors = await engine.sync_records(
                integration,
                zone,
                connector,
                catalog.datasets,
                record_fetches,
                today,
                read_at=read_at,
                read_at_wall=read_at_wall,
            )
            if connector.ctx.credentials != issued:
                await save_credentials(runtime, integration, connector.ctx.credentials)
            await _lose_integration(runtime, integration, record_errors.values())
        for fetch in record_fetches:
            error = record_errors.get(fetch.dataset)
            if error is not None and fetch.reason == "missing":
                failures[(fetch.dataset, RECORDS_VARIANT)] = WidgetError(error.code, error.message)
        read_records = await engine.read_records(
            integration.id, needs.records, catalog.datasets, zone
        )
    if fetches:
        connector = engine.connector(integration)
        issued = dict(connector.ctx.credentials)
        # The facts are read while other fetches still wait on the network: first what
        # no fetch touches, then each (dataset, variant) once its last fetch has ended;
        # each widget is rendered once all it reads is read.
        progress = ProgressiveAnswer(widgets, today, periods[0], comparison)
        for failed_key, failure in failures.items():
            progress.fail(failed_key, failure)
        if read_records is not None:
            progress.add({(d, RECORDS_VARIANT) for d in needs.records}, read_records)
        pending = Counter((f.key[0], f.key[1]) for f in fetches)

        async def read(keys: set[FactKey], *, skip: set[FactKey] | None = None) -> FactSnapshot:
            only = None if skip is not None else keys
            snapshot = await _load(engine.store, integration.id, prepared, only=only, skip=skip)
            progress.add(keys, snapshot)
            return snapshot

        reads = [asyncio.create_task(read(set(needs.templates) - set(pending), skip=set(pending)))]

        def fetched(planned: PlannedFetch, error: UpstreamError | None) -> None:
            key = (planned.key[0], planned.key[1])
            if error is not None and planned.reason == "missing":
                progress.fail(planned.key, WidgetError(error.code, error.message))
            pending[key] -= 1
            if not pending[key]:
                reads.append(asyncio.create_task(read({key})))

        try:
            errors = await engine.coordinator.run(
                integration.id,
                zone,
                connector,
                catalog.datasets,
                fetches,
                read_at=read_at,
                read_at_wall=read_at_wall,
                on_done=fetched,
            )
            snapshot = functools.reduce(_merged, await asyncio.gather(*reads))
        except BaseException:
            for task in reads:
                task.cancel()
            raise
        spent = connector.quota_spent()
        charge(spent)
        if spent:
            engine.quota_seen[integration.id] = {**spent, "at": clock.now().isoformat()}
            while len(engine.quota_seen) > ANSWER_CACHE_ENTRIES:
                engine.quota_seen.popitem(last=False)
        failures.update(_failures(errors))
        progress.settle(failures)
        if connector.ctx.credentials != issued:
            await save_credentials(runtime, integration, connector.ctx.credentials)
        await _lose_integration(runtime, integration, errors.values())
        body = progress.body()
    else:
        if plans:
            snapshot = await _load(engine.store, integration.id, prepared)
        if read_records is not None:
            snapshot = _merged(snapshot, read_records)
        facts = _facts(snapshot, today)
        facts.failures.update(failures)
        body = answer_widgets(widgets, facts, periods[0], comparison)
    if failures:
        return body, None
    # The plan holds for this answer only when it was made from the same store version
    # without fetching; otherwise the next request plans again.
    valid_until = (
        None
        if fetches or record_fetches or plan is None or held.version != snapshot.version
        else plan.valid_until
    )
    if valid_until is not None and records_valid_until is not None:
        valid_until = min(valid_until, records_valid_until)
    if not plans:
        valid_until = NEVER
    entry = Answer(snapshot.version, today, body, valid_until)
    engine.answers[answer_key] = entry
    while len(engine.answers) > ANSWER_CACHE_ENTRIES:
        engine.answers.popitem(last=False)
    return body, entry


async def _lose_integration(
    runtime: Runtime, integration: CustomerIntegration, errors: Iterable[UpstreamError]
) -> None:
    """An expired token or a withdrawn permission makes the integration unusable."""
    lost = next((e for e in errors if isinstance(e, IntegrationExpired | IntegrationRevoked)), None)
    if lost is not None:
        status = "revoked" if isinstance(lost, IntegrationRevoked) else "expired"
        await mark_unusable(runtime, integration, status, lost.message)


def _fingerprint(request: GetDataRequest) -> str:
    """What the answer depends on in the body (not the async part's extra fields)."""
    text = GetDataRequest.model_dump_json(request, include=_ANSWER_FIELDS)
    return hashlib.sha256(text.encode()).hexdigest()


def answer_widgets(
    widgets: list[ResolvedWidget],
    facts: Facts,
    period: tuple[date, date],
    comparison: tuple[date, date] | None,
) -> dict[str, Any]:
    """Pure: every widget's body from the facts, keyed by widget id."""
    current = Aggregator(facts, *period)
    previous = Aggregator(facts, *comparison) if comparison is not None else None
    body: dict[str, Any] = {}
    for widget in widgets:
        if widget.error is not None:
            body[widget.id] = widget.error.body()
            continue
        body[widget.id] = render_one(widget, current, previous)
    return body


def _failures(errors: dict[PlannedFetch, UpstreamError]) -> dict[Any, WidgetError]:
    """Fetch errors by the fact key they leave unanswered (stale data still serves)."""
    failed: dict[Any, WidgetError] = {}
    for planned, error in errors.items():
        if planned.reason != "missing":
            continue
        failed[planned.key] = WidgetError(error.code, error.message)
    return failed
