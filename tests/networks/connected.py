"""A network's emulator connected in-process to the service: one clock for both, and a
paying customer's integration of the demo account that widget and sync tests ask."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from cryptography.fernet import Fernet

from metrics_connect import clock
from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.api.app import create_app
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from metrics_connect.sync.service import SyncOutcome, run_sync
from tests.conftest import connect_account, serving
from tests.networks.widgets import Periods, get_data


def module_settings(folder: Path, template: Path, **overrides: Any) -> Settings:
    """Settings on a copy of the migrated `template` database in `folder`, for the
    module-scoped fixtures that settings_factory (per test) cannot serve."""
    shutil.copyfile(template, folder / "test.db")
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{folder / 'test.db'}",
        "data_dir": folder / "data",
        "credentials_key": Fernet.generate_key().decode(),
        "log_json": True,
        "sync_enabled": False,
        "public_base_url": "http://testserver",
        **overrides,
    }
    return Settings(**values)


# A whole dashboard asked at once, on a machine whose cores other test workers share:
# the production budget (30 s, its own tests in tests/engine) would turn load into
# upstream_error answers here. A test that sets a budget of its own keeps it.
DASHBOARD_BUDGET_SECONDS = 240.0


def with_room_for_dashboards(settings: Settings) -> Settings:
    if "request_time_budget_seconds" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"request_time_budget_seconds": DASHBOARD_BUDGET_SECONDS})


class SharedClock:
    """One now for the service and the emulator, moved together."""

    def __init__(self, sandbox: SandboxNetwork, now: datetime) -> None:
        self.sandbox = sandbox
        self.set(now)

    def __call__(self) -> datetime:
        return self.current

    def set(self, instant: datetime) -> None:
        self.current = instant
        self.sandbox.controls.clock.set(instant)


@contextmanager
def frozen_clock(sandbox: SandboxNetwork, now: datetime) -> Iterator[SharedClock]:
    """The service's clock and the emulator's at `now` until the block ends."""
    shared = SharedClock(sandbox, now)
    clock.set_clock(shared)
    try:
        yield shared
    finally:
        clock.set_clock(None)


def routed_runtime(
    slug: str, sandbox: SandboxNetwork, settings: Settings, upstream: Any = None
) -> Runtime:
    """The service's runtime on `settings`, its calls to the network served in-process by
    the emulator (or by `upstream`, another app)."""
    runtime = Runtime.from_settings(settings)
    app = upstream if upstream is not None else sandbox.app
    runtime.upstream_transports[slug] = httpx.ASGITransport(app=app)
    return runtime


async def scheduled_sync(
    runtime: Runtime, integration: CustomerIntegration, sandbox: SandboxNetwork, at: datetime
) -> SyncOutcome:
    """The scheduler's sync run at `at`: the emulator and the service there (the emulator
    stays), the emulator's call log counting only this run's calls."""
    sandbox.controls.clock.set(at)
    clock.set_clock(lambda: at)
    try:
        sandbox.controls.calls.reset()
        return await run_sync(runtime, integration, at)
    finally:
        clock.set_clock(None)


@dataclass
class ConnectedNetwork:
    """The service serving an integration of the emulator's demo account. A test file
    extends it with its own readers of the emulator's raw data (`data`, typed there)."""

    client: httpx.AsyncClient
    headers: dict[str, str]
    integration_uuid: str
    integration_id: int
    sandbox: SandboxNetwork
    clock: SharedClock
    runtime: Runtime
    periods: Periods
    data: Any

    async def get_data(
        self,
        widgets: list[dict[str, Any]],
        comparison: bool = True,
        start: date | None = None,
        end: date | None = None,
    ) -> Any:
        """POST /metrics/get-data over the file's periods (or start/end), which must
        answer 200."""
        return await get_data(
            self.client,
            self.headers,
            self.integration_uuid,
            widgets,
            self.periods,
            comparison=comparison,
            start=start,
            end=end,
        )


Connected = TypeVar("Connected", bound=ConnectedNetwork)


def raw_data(sandbox: SandboxNetwork) -> Any:
    """The emulator's raw data: held by the sandbox itself (`data`), or by the emulator
    object it serves (`emulator.data`); None when neither holds any."""
    if sandbox.data is not None:
        return sandbox.data
    return getattr(sandbox.emulator, "data", None)


@asynccontextmanager
async def connected_network(
    kind: type[Connected],
    slug: str,
    sandbox: SandboxNetwork,
    shared: SharedClock,
    settings: Settings,
    periods: Periods,
    *,
    credentials: dict[str, Any] | None = None,
    upstream: Any = None,
    routed: bool = True,
    data: Any = None,
) -> AsyncIterator[Connected]:
    """The service on `settings`, its calls to the network routed in-process to the
    emulator (or to `upstream`, another app; not `routed`: over the network at the
    settings' base URL), and the demo account connected (with `credentials`); `data` is
    the emulator's raw data where `raw_data` cannot find it on the sandbox."""
    settings = with_room_for_dashboards(settings)
    if routed:
        runtime = routed_runtime(slug, sandbox, settings, upstream)
    else:
        runtime = Runtime.from_settings(settings)
    async with serving(create_app(runtime=runtime)) as client:
        account = await connect_account(
            runtime, slug, sandbox.demo_account, credentials=credentials
        )
        yield kind(
            client=client,
            headers=account.headers,
            integration_uuid=account.integration_uuid,
            integration_id=account.integration_id,
            sandbox=sandbox,
            clock=shared,
            runtime=runtime,
            periods=periods,
            data=data if data is not None else raw_data(sandbox),
        )
