"""A fixed-window request budget as APIs announce it in x-rate-limit-limit, -remaining
and -reset headers (the epoch second the window renews): X's 15-minute windows, GitHub's
hour."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RateWindow:
    limit: int
    seconds: int
    used: dict[int, int] = field(default_factory=dict)  # window index -> calls

    def take(self, now: float) -> tuple[bool, dict[str, str]]:
        """Count a call at `now` (epoch seconds): whether the window still had room, and
        the headers to answer with."""
        slot = int(now // self.seconds)
        count = self.used.get(slot, 0) + 1
        self.used = {slot: count}
        return count <= self.limit, self.headers(self.limit - count, (slot + 1) * self.seconds)

    def headers(self, remaining: int, reset: int) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(max(0, remaining)),
            "x-rate-limit-reset": str(reset),
        }
