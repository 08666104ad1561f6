"""The emulated TikTok API for Business v1.3 (the advertiser's side):

- GET /open_api/v1.3/report/integrated/get/   synchronous reports (reports.py)
- GET /open_api/v1.3/advertiser/info/         name, currency, time zone of advertisers
- POST /open_api/v1.3/report/task/create/     the same query as an asynchronous task
  (JSON body): its task_id; GET report/task/check/ its status (QUEUING, PROCESSING,
  then SUCCESS on the next check), GET report/task/download/ its rows as a CSV file

Every answer is HTTP 200 in the envelope of sandbox/kit/code_envelope.py (40001: no
permission on the advertiser). Endpoint names for the call counter: `report.integrated`,
`advertiser.info`, `report.task.create`, `report.task.check`, `report.task.download`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metrics_connect.networks.tiktok_ads.emulator.data import AdsData, load_data
from metrics_connect.networks.tiktok_ads.emulator.reports import (
    Query,
    ReportError,
    list_param,
    parse_query,
    report_csv,
    run_report,
)
from metrics_connect.sandbox.kit.code_envelope import (
    INVALID_PARAMETER,
    NO_PERMISSION,
    OK,
    CodeError,
    admit,
    envelope,
    route,
    unknown_route,
)
from metrics_connect.sandbox.kit.controls import SandboxControls

API = "/open_api/v1.3"


@dataclass
class TikTokAdsEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)
    data: AdsData = field(default_factory=load_data)
    # Asynchronous report tasks: task id -> (query, checks so far).
    tasks: dict[str, tuple[Query, int]] = field(default_factory=dict)

    async def admit(self, request: Request, endpoint: str) -> None:
        revoked = "No permission to operate advertiser."
        too_many = "Too many requests. Request QPS exceeds the limit of this API."
        await admit(self.controls, request, endpoint, revoked, too_many)

    def query(self, params: dict[str, list[str]]) -> Query:
        try:
            return parse_query(params, self.data)
        except ReportError as exc:
            code = NO_PERMISSION if "No permission" in str(exc) else INVALID_PARAMETER
            raise CodeError(code, str(exc)) from None

    async def report(self, request: Request) -> JSONResponse:
        query = self.query({k: request.query_params.getlist(k) for k in request.query_params})
        return envelope(OK, "OK", run_report(self.data, query, self.controls.clock.now()))

    async def create_task(self, request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise CodeError(INVALID_PARAMETER, "The body is not JSON.") from None
        params = {
            k: [v if isinstance(v, str) else json.dumps(v)]
            for k, v in body.items()
            if v is not None
        }
        params["page_size"] = ["1000"]
        query = self.query(params)
        task_id = secrets.token_hex(10)
        self.tasks[task_id] = (query, 0)
        return envelope(OK, "OK", {"task_id": task_id})

    def _task(self, request: Request) -> tuple[str, Query, int]:
        task_id = request.query_params.get("task_id", "")
        if request.query_params.get("advertiser_id") != self.data.advertiser_id:
            raise CodeError(NO_PERMISSION, "No permission to operate advertiser.")
        if task_id not in self.tasks:
            raise CodeError(INVALID_PARAMETER, f"task_id: {task_id} does not exist")
        query, checks = self.tasks[task_id]
        return task_id, query, checks

    async def check_task(self, request: Request) -> JSONResponse:
        task_id, query, checks = self._task(request)
        self.tasks[task_id] = (query, checks + 1)
        status = ("QUEUING", "PROCESSING")[checks] if checks < 2 else "SUCCESS"
        return envelope(OK, "OK", {"task_id": task_id, "status": status})

    async def download_task(self, request: Request) -> Response:
        _, query, checks = self._task(request)
        if checks < 3:
            raise CodeError(INVALID_PARAMETER, "The task is not finished yet.")
        text = report_csv(self.data, query, self.controls.clock.now())
        return Response(text, media_type="text/csv")

    async def advertiser_info(self, request: Request) -> JSONResponse:
        try:
            ids = list_param(request.query_params.getlist("advertiser_ids"), "advertiser_ids")
        except ReportError as exc:
            raise CodeError(INVALID_PARAMETER, str(exc)) from None
        if not ids:
            raise CodeError(INVALID_PARAMETER, "advertiser_ids: Missing data for required field.")
        if any(str(i) != self.data.advertiser_id for i in ids):
            raise CodeError(NO_PERMISSION, "No permission to operate advertiser.")
        info = dict(self.data.advertiser)
        info["advertiser_id"] = self.data.advertiser_id
        info.pop("first_day", None)
        return envelope(OK, "OK", {"list": [info]})


def create_app(emulator: TikTokAdsEmulator) -> Starlette:
    def at(path: str, endpoint: str, handler: Any, method: str = "GET") -> Route:
        return route(API + path, endpoint, handler, emulator.admit, method, invalid_values=True)

    return Starlette(
        routes=[
            at("/report/integrated/get/", "report.integrated", emulator.report),
            at("/advertiser/info/", "advertiser.info", emulator.advertiser_info),
            at("/report/task/create/", "report.task.create", emulator.create_task, "POST"),
            at("/report/task/check/", "report.task.check", emulator.check_task),
            at("/report/task/download/", "report.task.download", emulator.download_task),
            unknown_route(),
        ]
    )
