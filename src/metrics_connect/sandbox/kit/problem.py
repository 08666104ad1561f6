"""Refusals answered as Problem Details (RFC 9457): `application/problem+json` with
`type`, `title`, `status` and `detail`, as the JSON REST APIs of e-mail and marketing
tools send them. A network subclasses `ProblemError` to name its errors page (`type`)
and, where it sends one, a fresh `instance` id per answer."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import JSONResponse


class ProblemError(Exception):
    # The `type` member: the network's page about its errors (RFC 9457's default otherwise);
    # `{status}` in it stands for the answer's status (a page per status).
    type_url = "about:blank"
    # Whether each answer names its occurrence with a fresh `instance` (a UUID).
    with_instance = False

    def __init__(
        self, status: int, title: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_url.format(status=self.status),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.with_instance:
            body["instance"] = str(uuid.uuid4())
        return body

    def response(self) -> JSONResponse:
        return JSONResponse(
            self.body(), self.status, headers=self.headers, media_type="application/problem+json"
        )
