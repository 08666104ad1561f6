"""The connect page: customers link their networks by OAuth behind a session link."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from metrics_connect.connect.security import security_headers
from metrics_connect.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"


class StaticWithHeaders(StaticFiles):
    """Static files (stylesheets, scripts), with the same strict headers as the pages."""

    def __init__(self, directory: Path, headers: dict[str, str]) -> None:
        super().__init__(directory=directory)
        self._headers = headers

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(self._headers)
        return response


def install_connect(app: FastAPI, settings: Settings) -> None:
    """Mount the connect page and its stylesheet on the API app."""
    from metrics_connect.connect.pages import router

    app.include_router(router)
    app.mount(
        "/connect/static",
        StaticWithHeaders(STATIC_DIR, security_headers(settings)),
        name="connect-static",
    )
