"""The demo of an archive network (one whose sync keeps day by day what its API only
tells as "now"): its archive filled by replaying the sandbox clock through the network's
real sync, one run per day up to the sandbox's now, as the scheduler would have run it.

Shapes: `replay_daily` runs the network's own sync from the integration's connected_at
(or where the last replay stopped; its cursor is kept in sync_state, task "replay");
`replay_steps` runs it at a fixed step from an instant the network chooses, keeping the
cursor after every step; `replay_last_days` runs the whole scheduled sync (run_sync) over
a fixed number of days back, stopping at the first run that fails. `sandbox_connector`
is the connector they (and replays of their own) drive."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx

from metrics_connect.accounts.models import CustomerIntegration
from metrics_connect.connectors.base import Connector, UpstreamError
from metrics_connect.connectors.context import connector_for
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.sync.service import (
    IntegrationSync,
    get_state,
    load_integration,
    run_sync,
    save_state,
)

log = logging.getLogger("metrics_connect.sync.demo")

STEP = timedelta(days=1)


async def _replayable(
    runtime: Runtime, integration_uuid: str, sandbox: SandboxNetwork, slug: str
) -> CustomerIntegration | None:
    """The demo's integration if it is an active one of `slug`; the engine then talks to
    the same emulator in-process."""
    integration = await load_integration(runtime, integration_uuid)
    if integration is None or integration.slug != slug or integration.status != "active":
        return None
    runtime.upstream_transports.setdefault(slug, httpx.ASGITransport(app=sandbox.app))
    return integration


@asynccontextmanager
async def sandbox_connector(
    runtime: Runtime,
    integration: CustomerIntegration,
    sandbox: SandboxNetwork,
    base_url: str,
    *,
    now: Callable[[], datetime],
) -> AsyncIterator[Connector]:
    """The integration's connector, on the replay's clock `now`, talking in-process to
    `sandbox` at `base_url`."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app),
        base_url=base_url,
        timeout=runtime.settings.upstream_timeout_seconds,
    ) as http:
        connector = connector_for(runtime, integration, now=now)
        connector.ctx.http = http
        connector.ctx.base_url = base_url
        yield connector


async def replay_daily(
    runtime: Runtime,
    integration_uuid: str,
    sandbox: SandboxNetwork,
    *,
    slug: str,
    sandbox_base_url: str,
    sync: IntegrationSync,
) -> None:
    """Replay `sync` (the network `slug`'s scheduled sync) a day at a time against the
    sandbox, reached in-process at `sandbox_base_url`."""
    integration = await _replayable(runtime, integration_uuid, sandbox, slug)
    if integration is None:
        return
    sandbox_clock = sandbox.controls.clock
    saved = (sandbox_clock.frozen_at, sandbox_clock.offset)
    end = sandbox_clock.now()
    state = await get_state(runtime, integration.id, "replay")
    start = state.cursor_at + STEP if state.cursor_at else integration.connected_at
    if start > end:
        return
    replay_time = start
    done_at: datetime | None = None
    async with sandbox_connector(
        runtime, integration, sandbox, sandbox_base_url, now=lambda: replay_time
    ) as connector:
        try:
            while True:
                sandbox_clock.set(replay_time)
                await sync(runtime, integration, connector, replay_time)
                done_at = replay_time
                if replay_time >= end:
                    break
                replay_time = min(end, replay_time + STEP)
        except UpstreamError as exc:
            # Keep what was replayed; the next start resumes from there.
            log.warning(
                "demo archive replay stopped",
                extra={"integration_uuid": integration_uuid, "error_code": exc.code},
            )
        finally:
            sandbox_clock.frozen_at, sandbox_clock.offset = saved
    if done_at is not None:
        state.cursor_at = done_at
        state.last_run_at = done_at
        state.last_ok_at = done_at
        await save_state(runtime, state)


async def replay_steps(
    runtime: Runtime,
    integration: CustomerIntegration,
    sandbox: SandboxNetwork,
    *,
    sandbox_base_url: str,
    sync: IntegrationSync,
    first: datetime,
    step: timedelta,
    more: Callable[[datetime], bool],
) -> None:
    """Replay `sync` every `step` from `first` (or a step after where the last replay
    stopped) while `more(instant)` holds, the cursor saved after each run."""
    sandbox_clock = sandbox.controls.clock
    saved = (sandbox_clock.frozen_at, sandbox_clock.offset)
    state = await get_state(runtime, integration.id, "replay")
    replay_time = first
    if state.cursor_at is not None:
        replay_time = max(replay_time, state.cursor_at + step)
    steps = 0
    async with sandbox_connector(
        runtime, integration, sandbox, sandbox_base_url, now=lambda: replay_time
    ) as connector:
        try:
            while more(replay_time):
                sandbox_clock.set(replay_time)
                await sync(runtime, integration, connector, replay_time)
                state.cursor_at = state.last_run_at = state.last_ok_at = replay_time
                await save_state(runtime, state)
                steps += 1
                replay_time += step
        except UpstreamError as exc:
            log.warning(
                "demo archive replay stopped",
                extra={"integration_uuid": integration.uuid, "error_code": exc.code},
            )
        finally:
            sandbox_clock.frozen_at, sandbox_clock.offset = saved
    log.info("demo archive replayed", extra={"integration_uuid": integration.uuid, "steps": steps})


async def replay_last_days(
    runtime: Runtime,
    integration_uuid: str,
    sandbox: SandboxNetwork,
    *,
    slug: str,
    days: int,
) -> None:
    """Run the network `slug`'s scheduled sync once a day over the last `days` days (and
    today) of the sandbox clock."""
    integration = await _replayable(runtime, integration_uuid, sandbox, slug)
    if integration is None:
        return
    sandbox_clock = sandbox.controls.clock
    saved = (sandbox_clock.frozen_at, sandbox_clock.offset)
    end = sandbox_clock.now()
    try:
        for back in range(days, -1, -1):
            at = end - timedelta(days=back)
            sandbox_clock.set(at)
            connector = connector_for(runtime, integration, now=lambda at=at: at)
            outcome = await run_sync(runtime, integration, at, connector=connector)
            if not outcome.ok:
                return
    finally:
        sandbox_clock.frozen_at, sandbox_clock.offset = saved
