"""API versions an emulator answers, with the oldest still served and end-of-life dates.

A network names its versions in the path (`/v21.0/...` for Graph, `/v1beta/...` for
Google's Data API). `ApiVersions.check` says whether a named version is one the network
knows and still serves on a given day; each family answers a refusal with its own error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date


class VersionRefused(Exception):
    def __init__(self, version: str, reason: str) -> None:
        super().__init__(f"{reason}: {version}")
        self.version = version
        self.reason = reason  # "unknown" (not a version name) | "retired"


@dataclass(frozen=True)
class ApiVersions:
    # A version name; group 1 is its major number.
    pattern: re.Pattern[str]
    default: str
    oldest_major: int | None = None
    # Version name -> last day it is served (the network's announced end of life).
    end_of_life: dict[str, date] = field(default_factory=dict)
    # Version name -> the day it was released (a version is "latest" from then on).
    released: dict[str, date] = field(default_factory=dict)

    def is_version(self, segment: str) -> bool:
        return self.pattern.match(segment) is not None

    def major(self, version: str) -> int:
        match = self.pattern.match(version)
        if match is None:
            raise VersionRefused(version, "unknown")
        return int(match.group(1))

    def check(self, version: str, today: date | None = None) -> int:
        """The version's major number; VersionRefused when unknown or retired (older than
        the oldest served, or past its end of life on `today`)."""
        major = self.major(version)
        if self.oldest_major is not None and major < self.oldest_major:
            raise VersionRefused(version, "retired")
        last_day = self.end_of_life.get(version)
        if today is not None and last_day is not None and today > last_day:
            raise VersionRefused(version, "retired")
        return major

    def latest(self, today: date) -> str:
        """The newest version released by `today` (the default when no dates are known)."""
        out = [v for v, day in self.released.items() if day <= today]
        return max(out, key=self.major) if out else self.default

    def oldest_served(self, today: date) -> str:
        """The oldest version still served on `today` (where expired calls are sent when the
        network upgrades them instead of refusing them)."""
        served = [
            v
            for v in self.released
            if (self.oldest_major is None or self.major(v) >= self.oldest_major)
            and (v not in self.end_of_life or today <= self.end_of_life[v])
        ]
        return min(served, key=self.major) if served else self.latest(today)

    def split_path(self, path: str) -> tuple[str, list[str]]:
        """'/v21.0/123/insights' -> ('v21.0', ['123', 'insights']); the default version
        when the path names none."""
        segments = [s for s in path.split("/") if s]
        if segments and self.is_version(segments[0]):
            return segments.pop(0), segments
        return self.default, segments


GRAPH_VERSION_PATTERN = re.compile(r"^v(\d+)\.(\d+)$")
