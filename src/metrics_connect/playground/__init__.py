"""The playground: a merchant runs any widget of a connected network in a browser."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from metrics_connect.connect import StaticWithHeaders
from metrics_connect.connect.security import security_headers
from metrics_connect.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"


def install_playground(app: FastAPI, settings: Settings) -> None:
    """Mount the playground's pages and its static files (styles, scripts, Chart.js)."""
    from metrics_connect.playground.pages import router

    app.include_router(router)
    app.mount(
        "/playground/static",
        StaticWithHeaders(STATIC_DIR, security_headers(settings, own_scripts=True)),
        name="playground-static",
    )
