"""Fill the demo integration's archive by replaying the sandbox clock through the real sync.

From the integration's connected_at (or where the last replay stopped) to the sandbox's
now, the sandbox clock is moved step by step and `run_sync` runs at each step, exactly
as the scheduler would have run it. Steps are at most 23 hours apart (no story, listed
for 24 hours, can be missed, and every account day gets its snapshots) and land one
second before each live story expires (its final insights are what gets archived).
The replay is incremental: its cursor is kept in sync_state (task "replay").
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import httpx

from metrics_connect.accounts.lifecycle import mark_unusable
from metrics_connect.connectors.base import IntegrationExpired, IntegrationRevoked, UpstreamError
from metrics_connect.networks.instagram_business.connector.hooks import InstagramConnector
from metrics_connect.networks.instagram_business.sync.archive import (
    BufferedSink,
    InstagramArchive,
    fact_store,
)
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.sync.daily_replay import sandbox_connector
from metrics_connect.sync.service import (
    SyncOutcome,
    get_state,
    load_integration,
    save_state,
)

log = logging.getLogger("metrics_connect.sync.demo")

SLUG = "instagram_business"
MAX_STEP = timedelta(hours=23)
FINAL_MARGIN = timedelta(seconds=1)
SANDBOX_BASE_URL = "http://instagram.sandbox"
# Save the replay cursor this often (sandbox time), so an interrupted replay resumes.
CURSOR_EVERY = timedelta(days=90)


async def prepare_demo(runtime: Runtime, integration_uuid: str, sandbox: SandboxNetwork) -> None:
    integration = await load_integration(runtime, integration_uuid)
    if integration is None or integration.slug != SLUG or integration.status != "active":
        return
    # The engine talks to the same emulator in-process from now on.
    runtime.upstream_transports.setdefault(SLUG, httpx.ASGITransport(app=sandbox.app))

    sandbox_clock = sandbox.controls.clock
    saved = (sandbox_clock.frozen_at, sandbox_clock.offset)
    end = sandbox_clock.now()
    state = await get_state(runtime, integration.id, "replay")
    start = max(integration.connected_at, state.cursor_at or integration.connected_at)
    if start > end:
        return

    replay_time = start
    async with sandbox_connector(
        runtime, integration, sandbox, SANDBOX_BASE_URL, now=lambda: replay_time
    ) as connector:
        # A replay cannot wait for an hourly quota to come back: no pacing, and Meta's
        # refusal (if the quota runs out) stops it with what it has.
        assert isinstance(connector, InstagramConnector)
        connector.client.pace_near_limit = False
        sink = BufferedSink(fact_store(runtime), integration)
        archive = await InstagramArchive.load(
            runtime, integration, connector, sink, final_only=True
        )
        last_saved = start
        done_at: datetime | None = None
        steps = 0
        try:
            while True:
                sandbox_clock.set(replay_time)
                outcome = await archive.run(
                    replay_time, final_margin=FINAL_MARGIN, last=replay_time >= end
                )
                done_at = replay_time
                steps += 1
                if replay_time - last_saved >= CURSOR_EVERY:
                    await _checkpoint(runtime, archive, sink, replay_time)
                    last_saved = replay_time
                if replay_time >= end:
                    break
                replay_time = min(end, _next_step(replay_time, outcome))
        except UpstreamError as exc:
            # Keep what was replayed; the next start resumes from there (or, for a dead
            # token, the integration shows why it stopped).
            if isinstance(exc, IntegrationExpired | IntegrationRevoked):
                status = "expired" if isinstance(exc, IntegrationExpired) else "revoked"
                await mark_unusable(runtime, integration, status, exc.message)
            log.warning(
                "demo archive replay stopped",
                extra={
                    "integration_uuid": integration_uuid,
                    "error_code": exc.code,
                    "upstream_message": exc.message,
                    "replayed_until": done_at.isoformat() if done_at else None,
                },
            )
        finally:
            sandbox_clock.frozen_at, sandbox_clock.offset = saved
        if done_at is not None:
            await _checkpoint(runtime, archive, sink, done_at)
    if done_at is None or done_at < end:
        return
    log.info(
        "demo archive replayed",
        extra={"integration_uuid": integration_uuid, "steps": steps, "until": str(done_at)},
    )


def _next_step(now: datetime, outcome: SyncOutcome) -> datetime:
    step = now + MAX_STEP
    if outcome.next_due is not None and now < outcome.next_due < step:
        step = outcome.next_due
    return step


async def _checkpoint(
    runtime: Runtime, archive: InstagramArchive, sink: BufferedSink, instant: datetime
) -> None:
    """Everything replayed so far reaches the store, then the cursor moves."""
    await sink.flush()
    await archive.save_states()
    state = await get_state(runtime, archive.integration.id, "replay")
    state.cursor_at = instant
    state.last_run_at = instant
    state.last_ok_at = instant
    await save_state(runtime, state)
