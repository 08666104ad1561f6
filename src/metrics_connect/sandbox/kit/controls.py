"""What every emulator is controlled by: clock, latency and fault switches, call counter.

Every emulator is an ASGI app built around one `SandboxControls`, so that tests, the
demo and benchmarks can move its clock, inject latency, 429s, 5xx and expired tokens,
and count the calls per endpoint. `token_fault` is the sandbox's token rule, which each
API family turns into its own error envelope.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum

from metrics_connect.sandbox.accounts import is_sandbox_token


@dataclass
class SandboxClock:
    """The emulator's now; frozen at a given instant or following real time with an offset."""

    frozen_at: datetime | None = None
    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        base = self.frozen_at if self.frozen_at is not None else datetime.now(UTC)
        return base + self.offset

    def set(self, instant: datetime) -> None:
        self.frozen_at = instant
        self.offset = timedelta(0)

    def advance(self, delta: timedelta) -> None:
        if self.frozen_at is not None:
            self.frozen_at += delta
        else:
            self.offset += delta


@dataclass
class SandboxSwitches:
    latency_seconds: float = 0.0
    rate_limit_ratio: float = 0.0  # share of calls answered as rate-limited
    server_error_ratio: float = 0.0  # share of calls answered 5xx
    # Tokens the emulator treats as expired / lacking permissions.
    expired_tokens: set[str] = field(default_factory=set)
    revoked_tokens: set[str] = field(default_factory=set)
    # Force the next N calls to be rate-limited (for burst tests), then normal again.
    rate_limit_next: int = 0
    # The wait a rate-limited answer announces (Retry-After), where the API sends one.
    retry_after_seconds: int = 1
    seed: int = 7


class TokenFault(Enum):
    MISSING = "missing"
    FOREIGN = "foreign"  # not a sandbox token: the network cannot parse it
    EXPIRED = "expired"
    REVOKED = "revoked"


class CallCounter:
    def __init__(self) -> None:
        self.by_endpoint: Counter[str] = Counter()

    def record(self, endpoint: str) -> None:
        self.by_endpoint[endpoint] += 1

    @property
    def total(self) -> int:
        return sum(self.by_endpoint.values())

    def reset(self) -> None:
        self.by_endpoint.clear()


class SandboxControls:
    def __init__(self, clock: SandboxClock | None = None) -> None:
        self.clock = clock or SandboxClock()
        self.switches = SandboxSwitches()
        self.calls = CallCounter()
        self._rng = random.Random(self.switches.seed)

    async def apply_latency(self) -> None:
        if self.switches.latency_seconds > 0:
            await asyncio.sleep(self.switches.latency_seconds)

    def should_rate_limit(self) -> bool:
        if self.switches.rate_limit_next > 0:
            self.switches.rate_limit_next -= 1
            return True
        return self._rng.random() < self.switches.rate_limit_ratio

    def should_fail(self) -> bool:
        return self._rng.random() < self.switches.server_error_ratio

    def token_fault(self, token: str | None) -> TokenFault | None:
        """What is wrong with a request's token (None: nothing), by the sandbox rule."""
        if not token:
            return TokenFault.MISSING
        if not is_sandbox_token(token):
            return TokenFault.FOREIGN
        if token in self.switches.expired_tokens:
            return TokenFault.EXPIRED
        if token in self.switches.revoked_tokens:
            return TokenFault.REVOKED
        return None

    async def admit(
        self,
        endpoint: str,
        token: str | None,
        token_error: Callable[[TokenFault], Exception],
        rate_limited: Callable[[], Exception],
        failed: Callable[[], Exception],
    ) -> None:
        """What every call goes through before the network looks at it, in order: the
        call counter, latency, the token rule, the rate-limit and server-error switches;
        a refusal raises the network's own error."""
        self.calls.record(endpoint)
        await self.apply_latency()
        fault = self.token_fault(token)
        if fault is not None:
            raise token_error(fault)
        if self.should_rate_limit():
            raise rate_limited()
        if self.should_fail():
            raise failed()
