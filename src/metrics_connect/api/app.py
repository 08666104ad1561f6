"""The FastAPI application: routers, error format, middleware, lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from metrics_connect import __version__
from metrics_connect.api.errors import install_error_handlers
from metrics_connect.api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from metrics_connect.api.openapi import install_openapi
from metrics_connect.api.routers import (
    customer_integrations,
    customers,
    health,
    integrations,
    merchants,
    metrics,
)
from metrics_connect.api.routers import jobs as jobs_router
from metrics_connect.connect import install_connect
from metrics_connect.jobs.lifecycle import install_jobs
from metrics_connect.logging_setup import configure_logging
from metrics_connect.playground import install_playground
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings, get_settings
from metrics_connect.sync.scheduler import install as install_sync


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or (runtime.settings if runtime else get_settings())
    configure_logging(settings.log_level, settings.log_json)
    runtime = runtime or Runtime.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="metrics-connect",
        version=__version__,
        description="Marketing metrics for report and dashboard widgets.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    # Starlette tries the routes in order, each a regular expression: the metrics route,
    # the hottest, first (from 22nd it spent more on matching than on a cached answer).
    # Its path is static, so it cannot shadow another route.
    for module in (metrics, health, merchants, customers, customer_integrations, integrations):
        app.include_router(module.router)
    install_connect(app, runtime.settings)
    install_playground(app, runtime.settings)
    app.include_router(jobs_router.router)
    install_jobs(runtime)
    install_sync(runtime)
    install_openapi(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app
