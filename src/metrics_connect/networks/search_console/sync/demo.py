"""Fill the demo property's archive by replaying the sandbox clock through the real sync.

The API keeps 16 months; the demo property has data from further back. From its first
data on, the sandbox clock moves 28 days at a time and the sync runs at each step, as
the scheduler would have (each run archives the last 30 settled days), until the days
the API still serves are reached. Widgets over those older periods then answer from
the archive. The replay is incremental: its cursor is kept in sync_state ("replay";
sync/daily_replay.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import httpx

from metrics_connect.networks.search_console.emulator.data import TRAFFIC, site
from metrics_connect.networks.search_console.emulator.query import KEPT_MONTHS, months_before
from metrics_connect.networks.search_console.sync.archive import (
    PACIFIC,
    SETTLED_AFTER_DAYS,
    WINDOW_DAYS,
    sync_search_console,
)
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.sync.daily_replay import replay_steps
from metrics_connect.sync.service import load_integration

SLUG = "search_console"
STEP = timedelta(days=28)  # shorter than the 30 days each run archives: no gap
SANDBOX_BASE_URL = "http://searchconsole.sandbox"


async def prepare_demo(runtime: Runtime, integration_uuid: str, sandbox: SandboxNetwork) -> None:
    integration = await load_integration(runtime, integration_uuid)
    if integration is None or integration.slug != SLUG or integration.status != "active":
        return
    entry = site(integration.external_id)
    if entry is None or entry.traffic is None:
        return
    runtime.upstream_transports.setdefault(SLUG, httpx.ASGITransport(app=sandbox.app))
    now = sandbox.controls.clock.now()
    # The last day the API no longer serves, and the first run whose window reaches it.
    served_from = months_before(now.astimezone(PACIFIC).date(), KEPT_MONTHS)
    first_day = TRAFFIC[entry.traffic].start
    first_run = first_day + timedelta(days=WINDOW_DAYS - 1 + SETTLED_AFTER_DAYS)
    await replay_steps(
        runtime,
        integration,
        sandbox,
        sandbox_base_url=SANDBOX_BASE_URL,
        sync=sync_search_console,
        first=datetime.combine(first_run, time(12), PACIFIC).astimezone(UTC),
        step=STEP,
        more=lambda instant: (
            instant.astimezone(PACIFIC).date() - timedelta(days=STEP.days) < served_from
        ),
    )
