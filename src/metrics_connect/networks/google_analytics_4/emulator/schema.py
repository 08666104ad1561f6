"""The dimensions and metrics the emulated Data API knows (data.yaml's `dimensions`,
`metrics` and `linked_dimensions`), and which of them go together.

Scopes follow GA4: session/user dimensions apply to every fact; event-scoped dimensions
split sessions into their events; the item-scoped itemName splits them into their
items and is compatible only with item-scoped metrics. Google Ads and Search Console
metrics come from the linked products and are compatible only with the dimensions
those products know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from metrics_connect.networks.google_analytics_4.emulator.data import Hit, ItemLine, Session
from metrics_connect.sandbox.kit.google import GoogleError
from metrics_connect.sandbox.kit.spec import load_spec

SPEC = "data.yaml"
Scope = Literal["session", "event", "item", "date"]
MetricType = Literal["TYPE_INTEGER", "TYPE_FLOAT", "TYPE_SECONDS", "TYPE_CURRENCY"]
MetricSource = Literal["fact", "ads", "search", "item", "mixed"]
# What an event or item dimension reads on a fact without events or items.
_NO_HIT = Hit("(not set)", "(not set)", {})
_NO_ITEM = ItemLine("(not set)", {})


@dataclass(frozen=True)
class DimensionDef:
    name: str
    ui_name: str
    template: str  # str.format over the session s, its event h and its item i
    scope: Scope = "session"

    def get(self, s: Session, h: Hit | None, i: ItemLine | None) -> str:
        if self.scope in ("session", "date"):
            return session_dimensions(s)[self.name]
        return self.template.format(s=s, h=h or _NO_HIT, i=i or _NO_ITEM)


@dataclass(frozen=True)
class MetricDef:
    name: str
    ui_name: str
    type: MetricType
    value: str = ""  # its formula (report.py); empty: the value field of its name
    # fact: GA4 events and sessions; item: item-scoped facts (also answered from session
    # totals without itemName); ads: linked Google Ads; search: Search Console; mixed.
    source: MetricSource = "fact"


_DIMENSION_ROWS = load_spec(
    __package__, SPEC, "dimensions", dict[str, tuple[str, str] | tuple[str, str, Scope]]
)
DIMENSIONS = {name: DimensionDef(name, *row) for name, row in _DIMENSION_ROWS.items()}
_SESSION_SCOPED = [d for d in DIMENSIONS.values() if d.scope in ("session", "date")]
_METRIC_ROWS = load_spec(
    __package__,
    SPEC,
    "metrics",
    dict[
        str,
        tuple[str, MetricType]
        | tuple[str, MetricType, str]
        | tuple[str, MetricType, str, MetricSource],
    ],
)
METRICS = {name: MetricDef(name, *row) for name, row in _METRIC_ROWS.items()}
# Per linked product ("ads", "search"): its dimensions as templates over its rows r.
LINKED: dict[str, dict[str, str]] = load_spec(
    __package__, SPEC, "linked_dimensions", dict[str, dict[str, str]]
)
REFUSALS: dict[str, str] = load_spec(__package__, SPEC, "refusals", dict[str, str])


def refused(which: str, code: int = 400, /, **values: Any) -> GoogleError:
    """The API's refusal `which` (data.yaml's `refusals`), filled in with `values`."""
    return GoogleError(REFUSALS[which].format(**values), code)


def session_dimensions(s: Session) -> dict[str, str]:
    """Every session-scoped dimension value of a session (computed once, then kept)."""
    if s.dims is None:
        s.dims = {d.name: d.template.format(s=s) for d in _SESSION_SCOPED}
    return s.dims


def linked_dimension(product: str, row: Any, name: str) -> str:
    return LINKED[product][name].format(r=row)


def check_compatibility(dims: set[str], metrics: list[str]) -> None:
    dims = dims - {"date", "dateRange"}
    scopes = {DIMENSIONS[d].scope for d in dims}
    for name in metrics:
        source = METRICS[name].source
        if source in ("ads", "mixed"):
            ok = dims <= LINKED["ads"].keys()
        elif source == "search":
            ok = dims <= LINKED["search"].keys()
        else:
            ok = "event" not in scopes if source == "item" else "item" not in scopes
        if not ok:
            raise refused("incompatible", name=name)
