"""Fill the demo account's follower archive by replaying the sandbox clock through the
real sync: one run per UTC day over the last DAYS days, as the scheduler would have."""

from __future__ import annotations

from datetime import timedelta

import httpx

from metrics_connect.connectors.context import connector_for
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.sync.service import load_integration, run_sync

SLUG = "tiktok"
DAYS = 200


async def prepare_demo(runtime: Runtime, integration_uuid: str, sandbox: SandboxNetwork) -> None:
    integration = await load_integration(runtime, integration_uuid)
    if integration is None or integration.slug != SLUG or integration.status != "active":
        return
    runtime.upstream_transports.setdefault(SLUG, httpx.ASGITransport(app=sandbox.app))
    sandbox_clock = sandbox.controls.clock
    saved = (sandbox_clock.frozen_at, sandbox_clock.offset)
    end = sandbox_clock.now()
    try:
        for back in range(DAYS, -1, -1):
            at = end - timedelta(days=back)
            sandbox_clock.set(at)
            connector = connector_for(runtime, integration, now=lambda at=at: at)
            outcome = await run_sync(runtime, integration, at, connector=connector)
            if not outcome.ok:
                return
    finally:
        sandbox_clock.frozen_at, sandbox_clock.offset = saved
