"""Every predefined Facebook Pages widget through POST /metrics/get-data on an integration
connected to the emulator, and the non-additive figures checked against its raw data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.networks.facebook.emulator.data import PageData
from metrics_connect.networks.facebook.emulator.network import PageSandboxNetwork, build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from tests.conftest import connect_account, serving
from tests.networks.widgets import Periods, get_data, reference_widget, reference_widgets

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # 12:00 in Los Angeles
PERIODS = Periods(date(2026, 11, 20))  # today: insights up to yesterday, counts now
START, END = PERIODS.start, PERIODS.end
# "Now" counts (the Page's fan_count) exist for a past period only once archived.
SNAPSHOTS = {"fb:likes"}


@dataclass
class Connected:
    client: httpx.AsyncClient
    headers: dict[str, str]
    integration_uuid: str
    data: PageData

    async def get_data(self, widgets: list[dict[str, Any]], comparison: bool = True) -> Any:
        return await get_data(
            self.client, self.headers, self.integration_uuid, widgets, PERIODS,
            comparison=comparison,
        )  # fmt: skip


@pytest.fixture(scope="module")
def network() -> PageSandboxNetwork:
    return build_sandbox()


@pytest.fixture
def frozen(network: PageSandboxNetwork) -> Iterator[None]:
    network.controls.clock.set(NOW)
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


@pytest.fixture
async def page(
    network: PageSandboxNetwork,
    frozen: None,
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[Connected]:
    settings = settings_factory(sqlite_url, facebook_api_base_url="http://pages.test")
    runtime = Runtime.from_settings(settings)
    runtime.upstream_transports["facebook"] = httpx.ASGITransport(app=network.app)
    app = create_app(runtime=runtime)
    async with serving(app) as client:
        account = await connect_account(runtime, "facebook", network.demo_account)
        yield Connected(client, account.headers, account.integration_uuid, network.data)


def widget(reference_key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget("facebook", reference_key, **overrides)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


async def test_every_predefined_widget_answers_without_error(page: Connected) -> None:
    widgets = [{"id": f"w{i}", **w} for i, w in enumerate(reference_widgets("facebook"))]
    assert len(widgets) == 40
    result = await page.get_data(widgets)
    errors = {
        w["reference_key"]: result[w["id"]]["error"] for w in widgets if "error" in result[w["id"]]
    }
    assert errors == {}
    for w in widgets:
        body = result[w["id"]]
        if w["component"] in ("number_v1", "iconsList_v1"):
            assert body["values"] is not None, w["reference_key"]
            if w["reference_key"] not in SNAPSHOTS and w["component"] == "number_v1":
                assert body["comparison"]["values"] is not None, w["reference_key"]
        else:
            assert body["values"], w["reference_key"]
            assert "comparison" in body, w["reference_key"]
