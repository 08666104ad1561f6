"""The GA4 emulator on an in-process client, its clock frozen at a fixed afternoon."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from metrics_connect.networks.google_analytics_4.emulator.app import Ga4Emulator, create_app
from metrics_connect.networks.google_analytics_4.emulator.network import build_emulator
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, GA4_PROPERTY_ID

# 15:30 in Sao Paulo (UTC-3): today is half collected.
NOW = datetime(2026, 3, 18, 18, 30, tzinfo=UTC)
REPORT_URL = f"/v1beta/{GA4_PROPERTY_ID}:runReport"
AUTH = {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}


@pytest.fixture
def emulator() -> Ga4Emulator:
    emu = build_emulator()
    emu.controls.clock.set(NOW)
    return emu


@pytest.fixture
async def api(emulator: Ga4Emulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(emulator))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://analyticsdata.test", headers=AUTH
    ) as client:
        yield client


def metric_table(body: dict[str, Any]) -> dict[tuple[str, ...], dict[str, float]]:
    """A runReport answer as {dimension values: {metric: value}}."""
    names = [h["name"] for h in body["metricHeaders"]]
    out = {}
    for row in body.get("rows", []):
        key = tuple(v["value"] for v in row["dimensionValues"])
        out[key] = {n: float(v["value"]) for n, v in zip(names, row["metricValues"], strict=True)}
    return out
