"""`SandboxControls.admit`: every call counted and delayed, then refused in order (token,
rate limit, server error) with the network's own errors."""

from __future__ import annotations

import pytest

from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.controls import SandboxControls, TokenFault


class Refused(Exception):
    pass


async def admit(controls: SandboxControls, token: str | None) -> str:
    try:
        await controls.admit(
            "GET /things",
            token,
            lambda fault: Refused(f"token {fault.value}"),
            lambda: Refused("rate limited"),
            lambda: Refused("failed"),
        )
    except Refused as exc:
        return str(exc)
    return "admitted"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (None, "token missing"),
        ("a-foreign-token", "token foreign"),
        (DEMO_ACCESS_TOKEN, "rate limited"),
    ],
)
async def test_the_token_rule_comes_first(token: str | None, expected: str) -> None:
    controls = SandboxControls()
    controls.switches.rate_limit_next = 1  # reached only by a valid token
    assert await admit(controls, token) == expected
    assert controls.calls.by_endpoint["GET /things"] == 1


async def test_then_the_rate_limit_and_server_error_switches() -> None:
    controls = SandboxControls()
    controls.switches.revoked_tokens.add(DEMO_ACCESS_TOKEN)
    assert await admit(controls, DEMO_ACCESS_TOKEN) == f"token {TokenFault.REVOKED.value}"
    controls.switches.revoked_tokens.clear()
    controls.switches.rate_limit_next = 1
    assert await admit(controls, DEMO_ACCESS_TOKEN) == "rate limited"
    controls.switches.server_error_ratio = 1.0
    assert await admit(controls, DEMO_ACCESS_TOKEN) == "failed"
    controls.switches.server_error_ratio = 0.0
    assert await admit(controls, DEMO_ACCESS_TOKEN) == "admitted"
    assert controls.calls.total == 4
