"""The plain JSON REST family's client: an error body whose message and text code sit in
fields the network's streams.yaml names (`errors.envelope.message_fields`, `code_fields`),
e.g. HubSpot's {"status": "error", "message", "category": "EXPIRED_AUTHENTICATION"}; the
error map matches the text code with `status`, the HTTP status with `http_status`."""

from __future__ import annotations

from typing import Any

from metrics_connect.connectors.kit.errors import Failure
from metrics_connect.connectors.kit.http import KitClient
from metrics_connect.connectors.kit.spec import dig


class JsonRestClient(KitClient):
    family_name = "JSON API"
    log_fields = ("upstream_code", "upstream_subcode")

    def parse_failure(self, status: int, body: Any) -> Failure:
        envelope = self.streams.errors.envelope
        message = f"HTTP {status}"
        code: str | None = None
        if isinstance(body, dict):
            for path in envelope.message_fields:
                found = dig(body, path)
                if isinstance(found, str) and found:
                    message = found
                    break
            for path in envelope.code_fields:
                found = dig(body, path)
                if found not in (None, ""):
                    code = str(found)
                    break
        return Failure(status=status, message=message, status_text=code)
