"""Fill the demo account's archive by replaying the sandbox clock through the real sync:
a day at a time over the last 400 days (followers daily, analytics weekly), so that
follower charts and periods older than the API's 90 days answer on the demo. The replay
is incremental: its cursor is kept in sync_state ("replay")."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

import httpx

from metrics_connect.connectors.base import UpstreamError
from metrics_connect.connectors.context import connector_for
from metrics_connect.networks.pinterest.sync.archive import sync_pinterest
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.sync.service import get_state, load_integration, save_state

log = logging.getLogger("metrics_connect.sync.demo")

SLUG = "pinterest"
REPLAY_DAYS = 400
STEP = timedelta(days=1)
SANDBOX_BASE_URL = "http://pinterest.sandbox"


async def prepare_demo(
    runtime: Runtime, integration_uuid: str, sandbox: SandboxNetwork, days: int = REPLAY_DAYS
) -> None:
    integration = await load_integration(runtime, integration_uuid)
    if integration is None or integration.slug != SLUG or integration.status != "active":
        return
    sandbox_clock = sandbox.controls.clock
    saved = (sandbox_clock.frozen_at, sandbox_clock.offset)
    now = sandbox_clock.now()
    state = await get_state(runtime, integration.id, "replay")
    first = now.date() - timedelta(days=days)
    replay_time = datetime.combine(first, time(12), UTC)
    if state.cursor_at is not None:
        replay_time = max(replay_time, state.cursor_at + STEP)
    steps = 0
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app),
        base_url=SANDBOX_BASE_URL,
        timeout=runtime.settings.upstream_timeout_seconds,
    ) as http:
        connector = connector_for(runtime, integration, now=lambda: replay_time)
        connector.ctx.http = http
        connector.ctx.base_url = SANDBOX_BASE_URL
        try:
            while replay_time.date() < now.date():
                sandbox_clock.set(replay_time)
                await sync_pinterest(runtime, integration, connector, replay_time)
                state.cursor_at = state.last_run_at = state.last_ok_at = replay_time
                await save_state(runtime, state)
                steps += 1
                replay_time += STEP
        except UpstreamError as exc:
            log.warning(
                "demo archive replay stopped",
                extra={"integration_uuid": integration_uuid, "error_code": exc.code},
            )
        finally:
            sandbox_clock.frozen_at, sandbox_clock.offset = saved
    log.info("demo archive replayed", extra={"integration_uuid": integration_uuid, "steps": steps})
