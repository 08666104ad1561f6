"""Request budgets that renew with the calendar, as quota-metered APIs keep them (tokens
per day and per hour in the account's time zone, requests in flight, server errors per
hour), and report them back as consumed and remaining per bucket.

A bucket counts one thing (`tokens` a request is charged after it runs,
`requests_in_flight`, `server_errors`, or `nothing`) over a window (`day`, `hour`, or
`request`: never renewed). `check` names the refusal of the first spent bucket that has
one, in the order given, before a request runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

_WINDOWS = {"day": "%Y-%m-%d", "hour": "%Y-%m-%d %H", "request": ""}


@dataclass
class Bucket:
    limit: int
    counts: Literal["tokens", "requests_in_flight", "server_errors", "nothing"]
    window: Literal["day", "hour", "request"] = "request"
    refusal: str = ""  # the message once spent; "" for a bucket only reported
    used: int = 0
    window_key: str = ""

    def roll(self, local: datetime) -> None:
        """Start over when `local` is in a new window."""
        key = local.strftime(_WINDOWS[self.window])
        if key != self.window_key:
            self.window_key, self.used = key, 0


@dataclass(frozen=True)
class QuotaSpec:
    """A data spec's quotas: the buckets by name (in the order status answers them) and
    the names `check` looks at, in order."""

    buckets: dict[str, Bucket]
    checked: tuple[str, ...]


class TokenQuota:
    def __init__(self, timezone: str, spec: QuotaSpec) -> None:
        self.tz = ZoneInfo(timezone)
        self.buckets = spec.buckets
        self.checked = spec.checked

    def _count(self, now: datetime, what: str, amount: int) -> None:
        local = now.astimezone(self.tz)
        for bucket in self.buckets.values():
            bucket.roll(local)
            if bucket.counts == what:
                bucket.used += amount

    def check(self, now: datetime) -> str | None:
        """The refusal of the first spent bucket of `checked`; None when the request may run."""
        self._count(now, "nothing", 0)
        spent = (self.buckets[name] for name in self.checked)
        return next((b.refusal for b in spent if b.used >= b.limit), None)

    def charge(self, now: datetime, tokens: int) -> None:
        self._count(now, "tokens", tokens)

    def record_server_error(self, now: datetime) -> None:
        self._count(now, "server_errors", 1)

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        """A request running meanwhile (requests in flight never renew by time)."""
        counting = [b for b in self.buckets.values() if b.counts == "requests_in_flight"]
        for bucket in counting:
            bucket.used += 1
        try:
            yield
        finally:
            for bucket in counting:
                bucket.used -= 1

    def status(self, consumed: int) -> dict[str, dict[str, int]]:
        """Per bucket: what this request consumed (its tokens) and what remains."""
        return {
            name: {
                "consumed": consumed if b.counts == "tokens" else 0,
                "remaining": max(0, b.limit - b.used),
            }
            for name, b in self.buckets.items()
        }
