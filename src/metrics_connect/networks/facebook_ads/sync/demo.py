"""Fill the demo Meta Ads integration's snapshot archive by replaying the sandbox clock.

From the integration's connected_at (or where the last replay stopped) to the sandbox's
now, the sandbox clock is set to the end of each account day (23:59:59) and the real
sync (`sync_facebook_ads`) runs, as the scheduler would have run it that evening: every
day gets its balance, amount spent and spend cap, so balance widgets answer for past
periods. The replay is incremental: its cursor is kept in sync_state (task "replay").
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from metrics_connect.accounts.lifecycle import mark_unusable
from metrics_connect.connectors.base import IntegrationExpired, IntegrationRevoked, UpstreamError
from metrics_connect.networks.facebook_ads.sync.archive import sync_facebook_ads
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.sync.daily_replay import sandbox_connector
from metrics_connect.sync.service import (
    get_state,
    load_integration,
    save_state,
)

log = logging.getLogger("metrics_connect.sync.demo")

SANDBOX_BASE_URL = "http://meta-ads.sandbox"
DAY_END = time(23, 59, 59)


def replay_instants(start: datetime, end: datetime, timezone: str) -> list[datetime]:
    """The end of each account day after `start` up to `end`, then `end` itself."""
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date()
    instants: list[datetime] = []
    while True:
        instant = datetime.combine(day, DAY_END, zone)
        if instant >= end:
            break
        if instant > start:
            instants.append(instant)
        day += timedelta(days=1)
    return [*instants, end]


async def prepare_demo(runtime: Runtime, integration_uuid: str, sandbox: SandboxNetwork) -> None:
    integration = await load_integration(runtime, integration_uuid)
    if integration is None or integration.status != "active":
        return
    sandbox_clock = sandbox.controls.clock
    saved = (sandbox_clock.frozen_at, sandbox_clock.offset)
    end = sandbox_clock.now()
    state = await get_state(runtime, integration.id, "replay")
    start = max(integration.connected_at, state.cursor_at or integration.connected_at)
    if start >= end:
        return
    replay_time = start
    done_at: datetime | None = None
    async with sandbox_connector(
        runtime, integration, sandbox, SANDBOX_BASE_URL, now=lambda: replay_time
    ) as connector:
        try:
            for replay_time in replay_instants(start, end, integration.timezone or "UTC"):
                sandbox_clock.set(replay_time)
                await sync_facebook_ads(runtime, integration, connector, replay_time)
                done_at = replay_time
        except UpstreamError as exc:
            # Keep what was replayed; the next start resumes from there.
            if isinstance(exc, IntegrationExpired | IntegrationRevoked):
                status = "expired" if isinstance(exc, IntegrationExpired) else "revoked"
                await mark_unusable(runtime, integration, status, exc.message)
            log.warning(
                "demo snapshot replay stopped",
                extra={"integration_uuid": integration_uuid, "error_code": exc.code},
            )
        finally:
            sandbox_clock.frozen_at, sandbox_clock.offset = saved
    if done_at is None:
        return
    state.cursor_at = state.last_run_at = state.last_ok_at = done_at
    await save_state(runtime, state)
    log.info(
        "demo snapshot archive replayed",
        extra={"integration_uuid": integration_uuid, "until": done_at.isoformat()},
    )
