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

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metrics_connect.networks.tiktok_ads.emulator.data import AdsData, load_data
from metrics_connect.networks.tiktok_ads.emulator.reports import (
    Query,
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
from metrics_connect.sandbox.kit.code_params import body_params, list_param
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.report_tasks import TaskBook
from metrics_connect.sandbox.kit.templates import fill

API = "/open_api/v1.3"


@dataclass
class TikTokAdsEmulator:
    controls: SandboxControls = field(default_factory=SandboxControls)
    data: AdsData = field(default_factory=load_data)
    # Asynchronous report tasks: QUEUING, PROCESSING, then SUCCESS on the next check.
    tasks: TaskBook[Query] = field(
        default_factory=lambda: TaskBook(("QUEUING", "PROCESSING"), done="SUCCESS")
    )

    def text(self, name: str) -> str:
        return self.data.spec.texts[name]

    async def admit(self, request: Request, endpoint: str) -> None:
        too_many = self.text("too_many")
        await admit(self.controls, request, endpoint, self.text("no_permission"), too_many)

    async def report(self, request: Request) -> JSONResponse:
        params = {k: request.query_params.getlist(k) for k in request.query_params}
        query = parse_query(params, self.data)
        return envelope(OK, "OK", run_report(self.data, query, self.controls.clock.now()))

    async def create_task(self, request: Request) -> JSONResponse:
        params = body_params(await request.body(), self.text("not_json"))
        params["page_size"] = ["1000"]
        task_id = self.tasks.create(parse_query(params, self.data))
        return envelope(OK, "OK", {"task_id": task_id})

    def _task(self, request: Request) -> str:
        task_id = request.query_params.get("task_id", "")
        if request.query_params.get("advertiser_id") != self.data.advertiser_id:
            raise CodeError(NO_PERMISSION, self.text("no_permission"))
        if task_id not in self.tasks:
            raise CodeError(INVALID_PARAMETER, f"task_id: {task_id} does not exist")
        return task_id

    async def check_task(self, request: Request) -> JSONResponse:
        task_id = self._task(request)
        return envelope(OK, "OK", {"task_id": task_id, "status": self.tasks.check(task_id)})

    async def download_task(self, request: Request) -> Response:
        task_id = self._task(request)
        if not self.tasks.finished(task_id):
            raise CodeError(INVALID_PARAMETER, self.text("not_finished"))
        text = report_csv(self.data, self.tasks.query(task_id), self.controls.clock.now())
        return Response(text, media_type="text/csv")

    async def advertiser_info(self, request: Request) -> JSONResponse:
        ids = list_param(request.query_params.getlist("advertiser_ids"), "advertiser_ids")
        if not ids:
            raise CodeError(INVALID_PARAMETER, "advertiser_ids: Missing data for required field.")
        if any(str(i) != self.data.advertiser_id for i in ids):
            raise CodeError(NO_PERMISSION, self.text("no_permission"))
        info = fill(self.data.spec.advertiser_info, self.data.advertiser)
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
