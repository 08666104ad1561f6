"""Fill the demo integration's follower archive by replaying the sandbox clock through the
real sync, a day at a time (sync/daily_replay.py)."""

from __future__ import annotations

from metrics_connect.networks.facebook.sync.archive import sync_page
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.sync.daily_replay import replay_daily

SLUG = "facebook"
SANDBOX_BASE_URL = "http://pages.sandbox"


async def prepare_demo(runtime: Runtime, integration_uuid: str, sandbox: SandboxNetwork) -> None:
    await replay_daily(
        runtime,
        integration_uuid,
        sandbox,
        slug=SLUG,
        sandbox_base_url=SANDBOX_BASE_URL,
        sync=sync_page,
    )
