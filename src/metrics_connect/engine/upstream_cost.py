"""What a request's upstream calls cost in the network's own quota units (GA4's
property tokens), for the `X-Upstream-Quota` response header and ?explain=true.

The API sets a meter around a request (`metered`); the engine adds what each connector
it used says its calls consumed (`Connector.quota_spent`). Requests that share a fetch
another request is making are not charged for it: the caller of the network is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

QUOTA_HEADER = "X-Upstream-Quota"


@dataclass
class UpstreamCost:
    quota: dict[str, float] = field(default_factory=dict)

    def add(self, spent: dict[str, float]) -> None:
        for unit, amount in spent.items():
            self.quota[unit] = self.quota.get(unit, 0) + amount

    def headers(self) -> dict[str, str]:
        """`X-Upstream-Quota: tokens=57` (units sorted); none when nothing was counted."""
        if not self.quota:
            return {}
        text = ", ".join(f"{unit}={amount:g}" for unit, amount in sorted(self.quota.items()))
        return {QUOTA_HEADER: text}


_CURRENT: ContextVar[UpstreamCost | None] = ContextVar("upstream_cost", default=None)


@contextmanager
def metered() -> Iterator[UpstreamCost]:
    """The cost of what runs inside, in this task and the tasks it starts."""
    cost = UpstreamCost()
    token = _CURRENT.set(cost)
    try:
        yield cost
    finally:
        _CURRENT.reset(token)


def charge(spent: dict[str, float]) -> None:
    """Add a connector's spent quota to the current meter, if any."""
    cost = _CURRENT.get()
    if cost is not None and spent:
        cost.add(spent)
