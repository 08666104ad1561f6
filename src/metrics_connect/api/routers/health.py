"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from metrics_connect.api.deps import RuntimeDep
from metrics_connect.api.json_body import JsonBodyRoute
from metrics_connect.sync.progress import archive_progress

router = APIRouter(tags=["health"], route_class=JsonBodyRoute)


@router.get("/healthz")
async def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(runtime: RuntimeDep) -> dict[str, Any] | JSONResponse:
    try:
        async with runtime.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "error": type(exc).__name__},
            status_code=503,
        )
    body: dict[str, Any] = {"status": "ok", "database": "ok"}
    # Ready to answer; archives still replaying (the demo) answer their older periods
    # once done, so say which are still filling.
    progress = archive_progress(runtime)
    if progress:
        body["archives"] = dict(progress)
    return body
