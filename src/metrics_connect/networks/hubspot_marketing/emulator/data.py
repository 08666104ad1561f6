"""The emulated portal's marketing numbers, drawn from data.yaml and the day.

Website sessions are cells (source x country x device x UTM campaign) of one local day:
every analytics breakdown groups the same cells, so sources, countries and totals agree.
Pages, landing pages and blog posts share the day's page views; forms have their own
views and submissions. A marketing e-mail is sent on its day and its opens, clicks,
bounces and unsubscribes arrive over the following week: the statistics of a send move
while the clock runs (HubSpot counts them on the send's interval).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from metrics_connect.sandbox.kit.seeded import DailySeries, apportion, between
from metrics_connect.sandbox.kit.spec import load_document

PACKAGE = __package__ or "metrics_connect.networks.hubspot_marketing.emulator"
SPEC: dict[str, Any] = load_document(PACKAGE, "data.yaml", dict[str, Any])
PORTAL: dict[str, Any] = {k: v for k, v in SPEC["portal"].items() if k != "start"}
TZ = ZoneInfo(str(PORTAL["timeZone"]))
FIRST_DAY = date.fromisoformat(str(SPEC["portal"]["start"]))
COUNTS = tuple(SPEC["traffic"]["counts"])
DEVICES = tuple(SPEC["traffic"]["devices"])


@dataclass(frozen=True)
class Cell:
    source: str
    country: str
    device: str
    utm: str | None
    counts: dict[str, int]


def _series() -> DailySeries:
    sessions = SPEC["traffic"]["sessions"]
    return DailySeries(FIRST_DAY, **sessions, key=("hubspot_marketing", "sessions"))


def _share(value: int, rate: float, *key: object) -> int:
    return min(value, round(value * rate * between(0.85, 1.15, *key)))


@lru_cache(maxsize=1024)
def cells(day: date) -> tuple[Cell, ...]:
    """The day's sessions, split into cells whose counts every breakdown sums."""
    spec = SPEC["traffic"]
    total = _series().value(day)
    sources = spec["sources"]
    countries, devices = dict(spec["countries"]), dict(spec["devices"])
    out: list[Cell] = []
    per_source = apportion(
        total, [float(s[0]) * between(0.8, 1.2, day, n) for n, s in sources.items()]
    )
    for (name, (_, bounce, new, pages, seconds, contact, utms)), visits in zip(
        sources.items(), per_source, strict=True
    ):
        slots = [(c, d) for c in countries for d in devices]
        weights = [countries[c] * devices[d] * between(0.7, 1.3, day, name, c, d) for c, d in slots]
        for (country, device), v in zip(slots, apportion(visits, weights), strict=True):
            tags: list[str | None] = [*utms, None]
            for utm, w in zip(tags, apportion(v, [0.3] * len(utms) + [1.0]), strict=True):
                if w == 0:
                    continue
                key = (day, name, country, device, utm)
                contacts = _share(w, contact, *key, "contacts")
                counts = {
                    "visits": w,
                    "visitors": _share(w, new, *key, "new"),
                    "rawViews": round(w * pages * between(0.8, 1.2, *key, "views")),
                    "bounces": _share(w, bounce, *key, "bounces"),
                    "seconds": round(w * seconds * between(0.7, 1.3, *key, "time")),
                    "contacts": contacts,
                    "leads": _share(contacts, spec["lead_share"], *key, "leads"),
                    "customers": _share(contacts, spec["customer_share"], *key, "customers"),
                    "subscribers": _share(contacts, spec["subscriber_share"], *key, "subscribers"),
                }
                out.append(Cell(name, country, device, utm, counts))
    return tuple(out)


def traffic_rows(day: date, breakdown: str) -> dict[str, dict[str, int]]:
    """The day's summed counts by `source`, `country`, `utm` or `totals` (the key
    "totals"), each with the sessions by device."""
    out: dict[str, dict[str, int]] = {}
    for cell in cells(day):
        key = "totals" if breakdown == "totals" else getattr(cell, breakdown)
        if key is None:
            continue  # sessions without a UTM campaign are in no UTM row
        row = out.setdefault(str(key), dict.fromkeys((*COUNTS, *DEVICES), 0))
        for name, value in cell.counts.items():
            row[name] += value
        row[cell.device] += cell.counts["visits"]
    return out


def page_rows(day: date, kind: str | None) -> dict[str, dict[str, int]]:
    """The day's counts per page URL (all pages, or those of one kind)."""
    views = sum(c.counts["rawViews"] for c in cells(day))
    landing, pages = SPEC["landing"], SPEC["pages"]
    out: dict[str, dict[str, int]] = {}
    shares = apportion(views, [spec[0] for spec in pages.values()])
    for (url, (_, entrance, exits, bounce, seconds, page_kind, _)), v in zip(
        pages.items(), shares, strict=True
    ):
        if kind is not None and page_kind != kind:
            continue
        entrances = _share(v, entrance, day, url, "entrances")
        row = {
            "rawViews": v,
            "entrances": entrances,
            "exits": _share(v, exits, day, url, "exits"),
            "bounces": _share(entrances, bounce, day, url, "bounces"),
            "seconds": round(v * seconds * between(0.7, 1.3, day, url, "time")),
        }
        if page_kind == "landing":
            submissions = _share(v, landing["submission_share"], day, url, "subs")
            row |= {
                "ctaViews": _share(v, landing["cta_view_share"], day, url, "cta"),
                "submissions": submissions,
                "contacts": _share(submissions, landing["new_contact_share"], day, url),
            }
        out[url] = row
    return out


@dataclass(frozen=True)
class Form:
    guid: str
    name: str
    created: date
    views: float
    rate: float
    new_share: float
    edited_every: int

    @property
    def created_at(self) -> datetime:
        return datetime.combine(self.created, time(), TZ)

    def updated_at(self, now: datetime) -> datetime:
        """The last edit by `now`: every `edited_every` days from creation, at 15:00."""
        days = max(0, (now.astimezone(TZ).date() - self.created).days)
        last = self.created + timedelta(days=days - days % self.edited_every)
        edited = datetime.combine(last, time(15, 0), TZ)
        return edited if edited <= now else datetime.combine(self.created, time(9, 0), TZ)


FORMS = tuple(
    Form(guid, name, date.fromisoformat(str(created)), float(views), rate, new, every)
    for guid, (name, created, views, rate, new, every) in SPEC["forms"].items()
)


def form_rows(day: date) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for form in FORMS:
        if day < form.created:
            continue
        series = DailySeries(
            start=form.created,
            level=form.views,
            noise_low=0.6,
            noise_high=1.4,
            key=("form", form.guid),
        )
        views = series.value(day)
        submissions = _share(views, form.rate, day, form.guid, "subs")
        out[form.guid] = {
            "formViews": views,
            "submissions": submissions,
            "nonContactSubmissions": _share(submissions, form.new_share, day, form.guid),
        }
    return out


EMAIL_COUNTERS = tuple(SPEC["email_counters"])


@dataclass(frozen=True)
class Email:
    id: int
    name: str
    sent_at: datetime
    final: dict[str, int]  # the counters once every event has arrived

    def counters(self, now: datetime) -> dict[str, int]:
        """The counters as HubSpot shows them at `now`: events arrive over a week."""
        if now < self.sent_at:
            return dict.fromkeys(EMAIL_COUNTERS, 0)
        days = (now - self.sent_at).days
        arrived = min(1.0, sum(SPEC["emails"]["arrival"][: days + 1]))
        out = {k: self.final[k] for k in ("sent", "delivered", "hardbounced")}
        for k in ("open", "click", "spamreport", "unsubscribed"):
            out[k] = int(self.final[k] * arrived)
        return out


@lru_cache(maxsize=1)
def emails() -> tuple[Email, ...]:
    out: list[Email] = []
    for key, spec in SPEC["emails"].items():
        if key == "arrival":
            continue
        name, first, every, recipients, deliv, opens, clicks, hard, spam, unsub = spec
        day = date.fromisoformat(str(first))
        while day <= date(2027, 12, 31):
            n = len(out)
            sent = round(recipients * between(0.9, 1.1, key, day))
            delivered = round(sent * deliv * between(0.98, 1.0, key, day, "delivered"))
            final = {
                "sent": sent,
                "delivered": delivered,
                "hardbounced": _share(sent, hard, key, day, "hard"),
                "open": _share(delivered, opens, key, day, "open"),
                "click": _share(delivered, clicks, key, day, "click"),
                "spamreport": _share(delivered, spam, key, day, "spam"),
                "unsubscribed": _share(delivered, unsub, key, day, "unsub"),
            }
            at = datetime.combine(day, time(10, 0), TZ)
            out.append(Email(90_000_000 + n, f"{name} {day.isoformat()}", at, final))
            day += timedelta(days=int(every))
    return tuple(sorted(out, key=lambda e: e.sent_at))


def local_day(instant: datetime) -> date:
    return instant.astimezone(TZ).date()
