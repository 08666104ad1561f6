"""The fleet bench's simulated clock, shared by its processes without talking.

Every process (the emulator, the workers, the bench) computes the same instant from
the real clock: `sim_start + (time.time() - real_start) * speed`. It is a SandboxClock,
so the emulator serves its accounts on it; the workers use it as the service's clock
(metrics_connect.clock), so due times, leases and "now" agree everywhere.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from metrics_connect.sandbox.kit.controls import SandboxClock

ENV = "METRICS_CONNECT_BENCH_FLEET_CLOCK"


@dataclass
class SimulatedClock(SandboxClock):
    sim_start: datetime = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    real_start: float = 0.0
    speed: float = 1.0

    def now(self) -> datetime:
        return self.sim_start + timedelta(seconds=(time.time() - self.real_start) * self.speed)

    def real_time_of(self, instant: datetime) -> float:
        """The real (epoch) time at which the simulated clock shows `instant`."""
        return self.real_start + (instant - self.sim_start).total_seconds() / self.speed

    def to_env(self) -> dict[str, str]:
        return {ENV: f"{self.sim_start.isoformat()},{self.real_start!r},{self.speed!r}"}

    @classmethod
    def from_env(cls) -> SimulatedClock:
        sim_start, real_start, speed = os.environ[ENV].split(",")
        return cls(
            sim_start=datetime.fromisoformat(sim_start),
            real_start=float(real_start),
            speed=float(speed),
        )
