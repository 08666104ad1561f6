"""Google Ads' refusals: Google's error envelope with a GoogleAdsFailure in its details,
each refusal (before a query runs, or of the query: QueryError) as data.yaml's
`refusals` table words it."""

from __future__ import annotations

import uuid
from typing import Any

from metrics_connect.networks.google_ads.emulator import data
from metrics_connect.sandbox.kit.google import GoogleError
from metrics_connect.sandbox.kit.templates import fill_present

FAILURE: dict[str, Any] = data.spec("failure")
REFUSALS: dict[str, list[Any]] = data.spec("refusals")


class AdsError(GoogleError):
    """A refusal in Google's envelope, with a GoogleAdsFailure (error code `kind`: `value`)
    in its details when it has a kind."""

    def __init__(
        self,
        code: int,
        message: str,
        kind: str = "",
        value: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code)
        self.kind, self.value, self.details = kind, value, details

    def failure_body(self, version: str) -> dict[str, Any]:
        body = self.body()
        if self.kind:
            if self.code == 400:
                body["error"]["message"] = data.spec("invalid_argument")
            values: dict[str, Any] = {"version": version, "error_code": {self.kind: self.value}}
            values |= {"message": self.message, "details": self.details or None}
            values["request_id"] = uuid.uuid4().hex[:22]
            body["error"]["details"] = [fill_present(FAILURE, values)]
        return body


def refusal(which: str, details: dict[str, Any] | None = None, **values: Any) -> AdsError:
    """The refusal `which` of data.yaml, its texts filled with `values`."""
    code, kind, value, message = REFUSALS[which]
    return AdsError(code, message.format(**values), kind, value.format(**values), details)
