"""The embedded scheduler runs the sync in-process while the app is up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from metrics_connect import clock
from metrics_connect.engine.facts import FactStore
from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork
from metrics_connect.runtime import Runtime
from metrics_connect.sync.progress import archive_progress
from metrics_connect.sync.scheduler import SERVICE_KEY, install
from metrics_connect.sync.service import REPLAY_WAIT, run_sync

from .conftest import NOW


async def test_scheduler_archives_while_running_and_stops_cleanly(
    runtime: Runtime, network: InstagramSandboxNetwork, connect_instagram: Callable[..., Any]
) -> None:
    integration = await connect_instagram(NOW - timedelta(hours=2))
    runtime.settings.sync_enabled = True
    clock.set_clock(network.controls.clock.now)
    try:
        install(runtime)
        await runtime.start()
        task = runtime.services[SERVICE_KEY]
        today = network.sandbox.today()
        rows: list[Any] = []
        for _ in range(100):
            await asyncio.sleep(0.05)
            snapshot = await FactStore(runtime.db).load(
                integration.id, day_keys=[("followers_snapshot", "-")], start=today, end=today
            )
            rows = snapshot.rows.get(("followers_snapshot", "-"), [])
            if rows:
                break
        assert rows and rows[0].values["followers_count"] == network.sandbox.followers_count(NOW)
        await runtime.stop()
        assert task.done() and SERVICE_KEY not in runtime.services
    finally:
        clock.set_clock(None)


async def test_a_network_whose_archive_is_still_replaying_is_left_to_the_replay(
    runtime: Runtime, network: InstagramSandboxNetwork, connect_instagram: Callable[..., Any]
) -> None:
    """The demo replays an archive in the background: the scheduler must not sync that
    network meanwhile (both would move its sync cursor)."""
    integration = await connect_instagram(NOW - timedelta(hours=2))
    clock.set_clock(network.controls.clock.now)
    try:
        archive_progress(runtime)["instagram_business"] = "filling"
        now = clock.now()
        waiting = await run_sync(runtime, integration, now)
        assert waiting.ok and waiting.stored == 0 and waiting.next_due == now + REPLAY_WAIT
        archive_progress(runtime)["instagram_business"] = "done"
        ran = await run_sync(runtime, integration, clock.now())
        assert ran.ok and ran.stored > 0
    finally:
        clock.set_clock(None)
