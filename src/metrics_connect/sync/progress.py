"""What the archives still being filled are doing, for /readyz and the demo's banner.

The demo replays each network's history in the background once the API serves; this
is where it says, per network, "waiting", "filling", "done" or "failed".
"""

from __future__ import annotations

from metrics_connect.runtime import Runtime

SERVICE_KEY = "archive_progress"
STATES = ("waiting", "filling", "done", "failed")


def archive_progress(runtime: Runtime) -> dict[str, str]:
    """The per-network states (empty: nothing is being filled by this process)."""
    progress = runtime.services.setdefault(SERVICE_KEY, {})
    assert isinstance(progress, dict)
    return progress


def still_filling(runtime: Runtime) -> list[str]:
    return [slug for slug, state in archive_progress(runtime).items() if state != "done"]
