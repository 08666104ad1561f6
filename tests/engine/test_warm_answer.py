"""The warm answer: the cold one, reused without planning until an unsettled day it
read goes stale, and sent as the bytes JSONResponse would send."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse

from metrics_connect.engine import service
from metrics_connect.engine.plan import Plan

from .conftest import NOW, Connected, SharedClock

REFERENCE = Path(__file__).resolve().parent.parent / "catalog" / "reference" / "metrics.json"


def predefined_widgets() -> list[dict[str, Any]]:
    widgets = json.loads(REFERENCE.read_text())["metrics"]
    return [dict(w, id=f"w{i}") for i, w in enumerate(widgets)]


def dashboard(connected: Connected) -> dict[str, Any]:
    """Every predefined Instagram widget over the last 30 days (today's unsettled ones
    included), compared with the 30 before."""
    return connected.body(
        "2026-10-22",
        "2026-11-20",
        predefined_widgets(),
        comparison_start="2026-09-22",
        comparison_end="2026-10-21",
    )


async def post(connected: Connected, body: dict[str, Any]) -> httpx.Response:
    response = await connected.client.post(
        "/metrics/get-data", json=body, headers=connected.headers
    )
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> list[Plan]:
    """Every plan the engine makes from here on."""
    made: list[Plan] = []
    original = service.make_plan

    def recording(*args: Any, **kwargs: Any) -> Plan:
        plan = original(*args, **kwargs)
        made.append(plan)
        return plan

    monkeypatch.setattr(service, "make_plan", recording)
    return made


async def test_the_warm_dashboard_is_the_cold_answer_without_planning_or_calls(
    connected: Connected, plans: list[Plan]
) -> None:
    body = dashboard(connected)
    cold = await post(connected, body)
    assert any(plan.fetches for plan in plans)
    # The first repeat reads the store afresh (the cold read preceded some writes).
    await post(connected, body)
    plans.clear()
    calls = connected.calls
    warm = [await post(connected, body) for _ in range(3)]
    assert connected.calls == calls
    assert plans == []  # neither the coverage read nor the planner ran
    for response in warm:
        assert response.json() == cold.json()
        assert response.content == warm[0].content
        assert response.headers["content-type"] == "application/json"


async def test_a_reused_answer_is_planned_again_once_an_unsettled_day_goes_stale(
    connected: Connected, shared_clock: SharedClock, plans: list[Plan]
) -> None:
    body = dashboard(connected)
    await post(connected, body)
    await post(connected, body)
    await post(connected, body)
    plans.clear()
    # Still fresh (the shortest freshness of the stock datasets is 15 minutes).
    shared_clock.set(NOW + timedelta(minutes=10))
    calls = connected.calls
    await post(connected, body)
    assert plans == [] and connected.calls == calls
    # Two hours later, the same account day: the unsettled days are refetched.
    shared_clock.set(NOW + timedelta(hours=2))
    await post(connected, body)
    assert len(plans) == 1 and plans[0].fetches
    assert connected.calls > calls


def test_the_encoded_body_is_what_jsonresponse_sends() -> None:
    body = {"w": {"values": 1.5, "labels": ["São Paulo", "日本"], "none": None, "n": 10**20}}
    assert service.encode_body(body) == JSONResponse(body).body
