"""The Rest.li sandbox kit: Rest.li 2.0 values as LinkedIn writes them, monthly versions
and their sunsets, and what the gate refuses before a network looks at a call."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from metrics_connect.connectors.kit.restli import restli_date_range, restli_list, restli_query
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.restli import (
    RestliError,
    RestliGate,
    monthly_versions,
    parse_value,
    query_values,
)
from metrics_connect.sandbox.kit.versions import VersionRefused


def test_values_parse_as_the_connector_writes_them() -> None:
    urns = restli_list(["urn:li:sponsoredAccount:1", "urn:li:sponsoredAccount:2"])
    assert parse_value(urns) == ["urn:li:sponsoredAccount:1", "urn:li:sponsoredAccount:2"]
    span = parse_value(restli_date_range(date(2026, 1, 2), date(2026, 2, 3)))
    assert span == {
        "start": {"year": "2026", "month": "1", "day": "2"},
        "end": {"year": "2026", "month": "2", "day": "3"},
    }
    assert parse_value("List()") == []
    assert parse_value("a%20b") == "a b"


@pytest.mark.parametrize("text", ["List(a,b", "(start:(year:1)", "(start)", "a)"])
def test_malformed_values_are_bad_requests(text: str) -> None:
    with pytest.raises(RestliError) as refused:
        parse_value(text)
    assert refused.value.status == 400


def test_versions_are_served_a_year_then_sunset() -> None:
    versions = monthly_versions("202501", "202611")
    assert versions.check("202601", date(2027, 1, 15)) == 202601
    with pytest.raises(VersionRefused):
        versions.check("202511", date(2026, 11, 17))
    with pytest.raises(VersionRefused):
        versions.check("2026-01")


async def test_the_gate_refuses_in_linkedins_words() -> None:
    controls = SandboxControls()
    gate = RestliGate(controls, monthly_versions("202501", "202611"))
    controls.clock.set(datetime(2026, 12, 3, tzinfo=UTC))

    async def endpoint(request: Request) -> JSONResponse:
        try:
            await gate.admit(request, "things")
        except RestliError as exc:
            return exc.response()
        return JSONResponse(query_values(request))

    app = Starlette(routes=[Route("/rest/things", endpoint)])
    headers = {
        "Authorization": f"Bearer {DEMO_ACCESS_TOKEN}",
        "LinkedIn-Version": "202607",
        "X-Restli-Protocol-Version": "2.0.0",
    }
    query = restli_query({"ids": restli_list(["urn:li:x:1"]), "fields": "a,b"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        ok = await http.get(f"/rest/things?{query}", headers=headers)
        assert ok.json() == {"ids": ["urn:li:x:1"], "fields": "a,b"}
        missing = await http.get("/rest/things", headers={**headers, "LinkedIn-Version": ""})
        assert (missing.status_code, missing.json()["code"]) == (400, "VERSION_MISSING")
        sunset = await http.get("/rest/things", headers={**headers, "LinkedIn-Version": "202510"})
        assert (sunset.status_code, sunset.json()["code"]) == (426, "NONEXISTENT_VERSION")
        no_protocol = {k: v for k, v in headers.items() if k != "X-Restli-Protocol-Version"}
        assert (await http.get(f"/rest/things?{query}", headers=no_protocol)).status_code == 400
        controls.switches.expired_tokens.add(DEMO_ACCESS_TOKEN)
        expired = (await http.get("/rest/things", headers=headers)).json()
        assert (expired["status"], expired["serviceErrorCode"]) == (401, 65602)
