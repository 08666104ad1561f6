"""The emulated Google Analytics Data API v1beta (analyticsdata.googleapis.com).

- POST /v1beta/properties/{id}:runReport
- POST /v1beta/properties/{id}:batchRunReports (up to 5 reports)
- POST /v1beta/properties/{id}:checkCompatibility
- POST /v1beta/properties/{id}:runRealtimeReport (the last 30 minutes; realtime.py)
- GET  /v1beta/properties/{id}/metadata

Request bodies are read as Google's REST front end reads them (the sandbox kit's
proto_messages over data.yaml's `proto` tables): unknown fields and enum values refused
with INVALID_ARGUMENT, enums as names or numbers; with `$alt=json;enum-encoding=int`
(what the official clients send over REST) the answer's enums are numbers too.

OAuth Bearer tokens follow the sandbox rule (`metrics_connect.sandbox.accounts`);
errors have Google's shape {"error": {"code", "message", "status"}} (sandbox kit). The shared
`SandboxControls` switches inject latency, RESOURCE_EXHAUSTED answers (ratio or the
next N calls), 5xx, expired (401) and revoked (403) tokens, and count calls per endpoint.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from metrics_connect.networks.google_analytics_4.emulator import compatibility
from metrics_connect.networks.google_analytics_4.emulator.data import PropertyData
from metrics_connect.networks.google_analytics_4.emulator.realtime import run_realtime_report
from metrics_connect.networks.google_analytics_4.emulator.report import run_report
from metrics_connect.networks.google_analytics_4.emulator.schema import REFUSALS, refused
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.google import (
    GoogleError,
    admit,
    answer_google_errors,
    answer_unknown_paths,
)
from metrics_connect.sandbox.kit.proto_messages import ProtoMessages
from metrics_connect.sandbox.kit.spec import load_spec
from metrics_connect.sandbox.kit.token_quota import QuotaSpec, TokenQuota

PROTO: ProtoMessages = load_spec(__package__, "data.yaml", "proto", ProtoMessages)


@dataclass
class Ga4Emulator:
    """The emulator's state: the property's data, its quotas and the shared switches."""

    controls: SandboxControls = field(default_factory=SandboxControls)
    data: PropertyData = field(default_factory=PropertyData)
    property_quota: TokenQuota = field(init=False)
    # One report at a time: the data caches and quota counters are shared.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        quotas = load_spec(__package__, "data.yaml", "quota", QuotaSpec)
        self.property_quota = TokenQuota(self.data.timezone, quotas)


def create_app(emulator: Ga4Emulator) -> FastAPI:
    app = FastAPI(title="Google Analytics Data API (sandbox)", docs_url=None, redoc_url=None)
    controls = emulator.controls
    quota = emulator.property_quota
    # The rate-limit switch answers as an exhausted concurrency quota.
    concurrency_message = quota.buckets["concurrentRequests"].refusal

    answer_google_errors(app)

    async def gate(request: Request, endpoint: str, property_id: str) -> None:
        """The kit's gate, property access and quotas; raises the API's error."""
        try:
            await admit(controls, request, endpoint, REFUSALS["permission"], concurrency_message)
        except GoogleError as exc:
            if exc.code == 503:
                quota.record_server_error(controls.clock.now())
            raise
        if f"properties/{property_id}" != emulator.data.property_id:
            raise refused("permission", 403)
        refusal = quota.check(controls.clock.now())
        if refusal is not None:
            raise GoogleError(refusal, 429)

    def one_report_sync(body: dict[str, Any]) -> dict[str, Any]:
        with emulator.lock:
            now = controls.clock.now()
            result = run_report(emulator.data, body, now)
            quota.charge(now, result.tokens)
            if body.get("returnPropertyQuota"):
                result.body["propertyQuota"] = quota.status(result.tokens)
            return result.body

    async def one_report(body: dict[str, Any]) -> dict[str, Any]:
        # Reports are CPU work: off the event loop, so an in-process caller stays responsive.
        return await asyncio.to_thread(one_report_sync, body)

    async def body_of(request: Request, message: str) -> dict[str, Any]:
        return PROTO.read_body(await request.body(), message)

    def answer(request: Request, body: dict[str, Any]) -> JSONResponse:
        return JSONResponse(PROTO.answer(body, request.query_params.get("$alt")))

    @app.post("/v1beta/properties/{property_id}:runReport")
    async def run_report_endpoint(property_id: str, request: Request) -> JSONResponse:
        await gate(request, "runReport", property_id)
        with quota.in_flight():
            return answer(request, await one_report(await body_of(request, "RunReportRequest")))

    @app.post("/v1beta/properties/{property_id}:batchRunReports")
    async def batch_run_reports(property_id: str, request: Request) -> JSONResponse:
        await gate(request, "batchRunReports", property_id)
        with quota.in_flight():
            requests = (await body_of(request, "BatchRunReportsRequest")).get("requests") or []
            if not 1 <= len(requests) <= 5:
                raise refused("batch_size")
            # A report's own property may be left out, or name the batch's.
            for sub in requests:
                named = sub.get("property")
                if named and named != f"properties/{property_id}":
                    raise refused("batch_property", named=named, property_id=property_id)
            reports = [await one_report(r) for r in requests]
            return answer(request, {"reports": reports, "kind": "analyticsData#batchRunReports"})

    @app.get("/v1beta/properties/{property_id}/metadata")
    async def metadata(property_id: str, request: Request) -> JSONResponse:
        await gate(request, "metadata", property_id)
        return answer(request, compatibility.metadata(property_id))

    @app.post("/v1beta/properties/{property_id}:runRealtimeReport")
    async def realtime_report(property_id: str, request: Request) -> JSONResponse:
        await gate(request, "runRealtimeReport", property_id)
        body = await body_of(request, "RunRealtimeReportRequest")
        with emulator.lock:
            return answer(request, run_realtime_report(emulator.data, body, controls.clock.now()))

    @app.post("/v1beta/properties/{property_id}:checkCompatibility")
    async def check_compatibility(property_id: str, request: Request) -> JSONResponse:
        await gate(request, "checkCompatibility", property_id)
        body = await body_of(request, "CheckCompatibilityRequest")
        return answer(request, compatibility.check(body))

    answer_unknown_paths(app)
    return app
