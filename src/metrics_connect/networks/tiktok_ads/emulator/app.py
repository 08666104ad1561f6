"""The emulated TikTok API for Business v1.3 (the advertiser's side):

- GET /open_api/v1.3/report/integrated/get/   synchronous reports (reports.py)
- GET /open_api/v1.3/advertiser/info/         name, currency, time zone of advertisers
- POST /open_api/v1.3/report/task/create/     the same query as an asynchronous task
  (JSON body): its task_id; GET report/task/check/ its status (QUEUING, PROCESSING,
  then SUCCESS on the next check), GET report/task/download/ its rows as a CSV file

Every answer is HTTP 200 with TikTok's envelope {"code", "message", "request_id",
"data"}: code 0 is success; a business error keeps HTTP 200 and says what in `code`:
40001 no permission on the advertiser (revoked), 40002 invalid parameter, 40100 too
many requests, 40104 no access token, 40105 a token that is invalid, expired or revoked
by the user, 50000 system error. Endpoint names for the call counter:
`report.integrated`, `advertiser.info`, `report.task.create`, `report.task.check`,
`report.task.download`.
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
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault

API = "/open_api/v1.3"
OK, NO_PERMISSION, INVALID_PARAMETER, RATE_LIMITED = 0, 40001, 40002, 40100
NO_TOKEN, BAD_TOKEN, SYSTEM_ERROR = 40104, 40105, 50000


QPS_LIMIT = "Request QPS exceeds the limit of this API."
BAD_TOKEN_MESSAGE = (BAD_TOKEN, "Access token is incorrect or has been revoked.")
TOKEN_ERRORS = {
    TokenFault.MISSING: (NO_TOKEN, "Access token is null, please check."),
    TokenFault.FOREIGN: BAD_TOKEN_MESSAGE,
    TokenFault.EXPIRED: BAD_TOKEN_MESSAGE,
    TokenFault.REVOKED: (NO_PERMISSION, "No permission to operate advertiser."),
}


class BusinessError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def envelope(code: int, message: str, data: Any = None) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "request_id": secrets.token_hex(12),
        "data": data if data is not None else {},
    }
    return JSONResponse(body)


@dataclass
class TikTokAdsEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)
    data: AdsData = field(default_factory=load_data)
    # Asynchronous report tasks: task id -> (query, checks so far).
    tasks: dict[str, tuple[Query, int]] = field(default_factory=dict)

    async def admit(self, request: Request, endpoint: str) -> None:
        await self.controls.admit(
            endpoint,
            request.headers.get("access-token"),
            lambda fault: BusinessError(*TOKEN_ERRORS[fault]),
            lambda: BusinessError(RATE_LIMITED, "Too many requests. " + QPS_LIMIT),
            lambda: BusinessError(SYSTEM_ERROR, "System error, please retry later."),
        )

    def query(self, params: dict[str, list[str]]) -> Query:
        try:
            return parse_query(params, self.data)
        except ReportError as exc:
            code = NO_PERMISSION if "No permission" in str(exc) else INVALID_PARAMETER
            raise BusinessError(code, str(exc)) from None

    async def report(self, request: Request) -> JSONResponse:
        query = self.query({k: request.query_params.getlist(k) for k in request.query_params})
        return envelope(OK, "OK", run_report(self.data, query, self.controls.clock.now()))

    async def create_task(self, request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise BusinessError(INVALID_PARAMETER, "The body is not JSON.") from None
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
            raise BusinessError(NO_PERMISSION, "No permission to operate advertiser.")
        if task_id not in self.tasks:
            raise BusinessError(INVALID_PARAMETER, f"task_id: {task_id} does not exist")
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
            raise BusinessError(INVALID_PARAMETER, "The task is not finished yet.")
        text = report_csv(self.data, query, self.controls.clock.now())
        return Response(text, media_type="text/csv")

    async def advertiser_info(self, request: Request) -> JSONResponse:
        try:
            ids = list_param(request.query_params.getlist("advertiser_ids"), "advertiser_ids")
        except ReportError as exc:
            raise BusinessError(INVALID_PARAMETER, str(exc)) from None
        if not ids:
            raise BusinessError(
                INVALID_PARAMETER, "advertiser_ids: Missing data for required field."
            )
        if any(str(i) != self.data.advertiser_id for i in ids):
            raise BusinessError(NO_PERMISSION, "No permission to operate advertiser.")
        info = dict(self.data.advertiser)
        info["advertiser_id"] = self.data.advertiser_id
        info.pop("first_day", None)
        return envelope(OK, "OK", {"list": [info]})


def create_app(emulator: TikTokAdsEmulator) -> Starlette:
    def route(path: str, endpoint: str, handler: Any, method: str = "GET") -> Route:
        async def serve(request: Request) -> Response:
            try:
                await emulator.admit(request, endpoint)
                response: Response = await handler(request)
                return response
            except BusinessError as exc:
                return envelope(exc.code, exc.message)
            except (ValueError, json.JSONDecodeError) as exc:
                return envelope(INVALID_PARAMETER, f"Invalid parameter: {exc}")

        return Route(f"{API}{path}", serve, methods=[method])

    async def unknown(request: Request) -> JSONResponse:
        body = {"code": 40400, "message": f"Not found: {request.url.path}", "data": {}}
        return JSONResponse(body, status_code=404)

    return Starlette(
        routes=[
            route("/report/integrated/get/", "report.integrated", emulator.report),
            route("/advertiser/info/", "advertiser.info", emulator.advertiser_info),
            route("/report/task/create/", "report.task.create", emulator.create_task, "POST"),
            route("/report/task/check/", "report.task.check", emulator.check_task),
            route("/report/task/download/", "report.task.download", emulator.download_task),
            Route("/{path:path}", unknown, methods=["GET", "POST"]),
        ]
    )
