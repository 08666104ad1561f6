"""POST /metrics/get-data: a dashboard's widgets answered now (API.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from metrics_connect.api.deps import BillableCustomerDep, RuntimeDep, apply_request_limits
from metrics_connect.api.direct_route import DirectRoute
from metrics_connect.catalog.loader import catalogs
from metrics_connect.engine.request import GetDataRequest
from metrics_connect.engine.service import request_integration, run_get_data_json
from metrics_connect.engine.upstream_cost import metered

router = APIRouter(
    tags=["metrics"], dependencies=[Depends(apply_request_limits)], route_class=DirectRoute
)

# Every catalog is loaded and validated once, when the app is built, not on a request.
catalogs()


@router.post("/metrics/get-data", response_model=dict[str, Any])
async def get_data(
    body: GetDataRequest,
    customer: BillableCustomerDep,
    runtime: RuntimeDep,
    explain: bool = Query(default=False, description="Answer the plan, call no network."),
) -> Response:
    integration = await request_integration(runtime, customer, body.customer_integration)
    # The answer is plain JSON already: encoded once (and, when it is reused, kept
    # encoded), without a pass through the response model.
    # The network's quota units the request's calls consumed (GA4 tokens) as a header.
    with metered() as cost:
        answer = await run_get_data_json(runtime, integration, body, explain=explain)
    return Response(answer, media_type="application/json", headers=cost.headers())
