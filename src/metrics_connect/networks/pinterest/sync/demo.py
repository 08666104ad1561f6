"""Fill the demo account's archive by replaying the sandbox clock through the real sync:
a day at a time over the last 400 days (followers daily, analytics weekly), so that
follower charts and periods older than the API's 90 days answer on the demo. The replay
is incremental: its cursor is kept in sync_state ("replay"; sync/daily_replay.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from metrics_connect.networks.pinterest.sync.archive import sync_pinterest
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.sync.daily_replay import replay_steps
from metrics_connect.sync.service import load_integration

SLUG = "pinterest"
REPLAY_DAYS = 400
SANDBOX_BASE_URL = "http://pinterest.sandbox"


async def prepare_demo(
    runtime: Runtime, integration_uuid: str, sandbox: SandboxNetwork, days: int = REPLAY_DAYS
) -> None:
    integration = await load_integration(runtime, integration_uuid)
    if integration is None or integration.slug != SLUG or integration.status != "active":
        return
    today = sandbox.controls.clock.now().date()
    await replay_steps(
        runtime,
        integration,
        sandbox,
        sandbox_base_url=SANDBOX_BASE_URL,
        sync=sync_pinterest,
        first=datetime.combine(today - timedelta(days=days), time(12), UTC),
        step=timedelta(days=1),
        more=lambda instant: instant.date() < today,
    )
