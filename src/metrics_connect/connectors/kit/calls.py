"""One upstream call of a plan: what ?explain=true shows and what fetch makes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from metrics_connect.connectors.base import PlannedCall, UpstreamError


@dataclass(frozen=True)
class Call:
    """A call (or, with `operations`, one Graph batch request carrying several)."""

    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    method: str = "GET"
    # The requester it comes from (hooks read answers by it) and its window of days.
    requester: str = "main"
    window: tuple[date, date] | None = None
    operations: tuple[Call, ...] = ()
    # A JSON body (Google's runReport), shown in explain by `summary`.
    body: Any = None
    summary: Mapping[str, str] | None = None
    # Its existence depends on what a listing returns (see ObjectEstimate).
    estimated: bool = False

    def planned(self) -> PlannedCall:
        if self.operations:
            params = {"operations": str(len(self.operations))}
        elif self.summary is not None:
            params = dict(self.summary)
        else:
            params = dict(self.params)
        return PlannedCall(self.method, self.path, params, estimated=self.estimated)


@dataclass
class Answer:
    """A call's outcome: its records (every page) and the first page's body; for a batch,
    each operation's body or its classified error, in order."""

    call: Call
    records: list[dict[str, Any]]
    body: Any = None
    operations: list[dict[str, Any] | UpstreamError] = field(default_factory=list)
