"""The webhook retry schedule: growing delays, each jittered, then give up."""

from __future__ import annotations

import random


def parse_schedule(text: str) -> list[float]:
    """ "5,30,120" -> [5.0, 30.0, 120.0]: the waits before the 2nd, 3rd, 4th attempts."""
    delays = [float(part) for part in text.split(",") if part.strip()]
    if any(delay < 0 for delay in delays):
        raise ValueError("webhook_retry_schedule delays must be >= 0")
    return delays


def retry_delay(
    schedule: list[float], failed_attempts: int, jitter: float, rng: random.Random | None = None
) -> float | None:
    """Seconds to wait after the `failed_attempts`-th failure; None: no attempt left.

    The jitter spreads the retries of many jobs that failed together (a receiver
    that went down) so they do not all come back at the same instant.
    """
    if failed_attempts < 1 or failed_attempts > len(schedule):
        return None
    base = schedule[failed_attempts - 1]
    factor = 1.0 + (rng or random).uniform(-jitter, jitter)
    return max(0.0, base * factor)
