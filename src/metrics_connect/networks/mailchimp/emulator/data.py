"""The sandbox Mailchimp account's audiences and campaigns (emulator/data.yaml), and
every subscriber's interactions with each campaign as timed events, drawn per campaign
from a seed. A report, its open details, the timeseries and the list's stats all count
the events that happened by the emulator's clock: opens keep coming for days after a
send, so a report read later is larger (the connector re-reads recent campaigns)."""

from __future__ import annotations

import bisect
import copy
import functools
import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from metrics_connect.sandbox.kit.spec import load_document

Event = tuple[datetime, str, int, float]  # instant, kind, member index, value (link, amount)
MAX_DELAY = timedelta(days=30)
_DRAWN: dict[tuple[Any, ...], tuple[list[Event], list[datetime]]] = {}


def iso(at: datetime) -> str:
    """Mailchimp writes instants in UTC with a +00:00 offset and no fraction."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat()


def email_id(list_id: str, member: int) -> str:
    return hashlib.md5(f"member{member}@{list_id}.example".encode()).hexdigest()


@dataclass
class Campaign:
    id: str
    web_id: int
    audience: dict[str, Any]
    title: str
    subject: str
    send_time: datetime
    recipients: int
    open_p: float
    click_p: float
    deleted_at: datetime | None = None

    def sent(self, at: datetime) -> bool:
        return self.send_time <= at and (self.deleted_at is None or at < self.deleted_at)


class MailchimpData:
    def __init__(self) -> None:
        self.spec: dict[str, Any] = load_document(__package__ or "", "data.yaml", dict[str, Any])
        self.account: dict[str, Any] = self.spec["account"]
        self.zone = ZoneInfo(str(self.account["account_timezone"]))
        self.start = date.fromisoformat(self.spec["history_start"])
        self.lists: list[dict[str, Any]] = self.spec["lists"]
        self.campaigns = self._schedule()
        self._reports: dict[tuple[str, int], dict[str, Any]] = {}

    def _schedule(self) -> list[Campaign]:
        rules, seed = self.spec["campaign"], self.spec["seed"]
        rng = random.Random(seed)
        out: list[Campaign] = []
        day, end = self.start, date.fromisoformat(self.spec["horizon_end"])
        while day <= end:
            for lst in self.lists:
                if day.isoweekday() not in lst["send_weekdays"]:
                    continue
                n = len(out)
                local = datetime.combine(day, time(rng.randint(8, 16), rng.choice((0, 15, 30))))
                send = local.replace(tzinfo=self.zone).astimezone(UTC)
                subject = rng.choice(rules["subjects"])
                deleted = None
                if n % rules["deleted_every"] == rules["deleted_every"] - 1:
                    deleted = send + timedelta(days=rules["deleted_after_days"])
                out.append(
                    Campaign(
                        id=hashlib.md5(f"{seed}:campaign:{n}".encode()).hexdigest()[:10],
                        web_id=5000 + n,
                        audience=lst,
                        title=f"{subject} ({day.isoformat()})",
                        subject=subject,
                        send_time=send,
                        recipients=self.joined(lst, send),
                        open_p=rng.uniform(*rules["open"]),
                        click_p=rng.uniform(*rules["click_of_openers"]),
                        deleted_at=deleted,
                    )
                )
            day += timedelta(days=1)
        return out

    def joined(self, lst: dict[str, Any], at: datetime) -> int:
        """Members who joined by `at` (the list's size at the history's start, then its
        daily joins): a campaign's recipients."""
        days = max(0.0, (at - datetime.combine(self.start, time(), UTC)).total_seconds() / 86400)
        return int(lst["members_start"] + lst["daily_joins"] * days)

    def members(self, lst: dict[str, Any], at: datetime) -> int:
        """Subscribed members at `at`: those who joined, less the unsubscribed and the
        cleaned (hard bounces) of its campaigns by then."""
        gone = 0
        for c in self.campaigns:
            if c.audience["id"] == lst["id"] and c.send_time < at:
                gone += self.count(c, at, "unsubscribe") + self.count(c, at, "hard_bounce")
        return self.joined(lst, at) - gone

    def sent(self, at: datetime) -> list[Campaign]:
        return [c for c in self.campaigns if c.sent(at)]

    def campaign(self, campaign_id: str, at: datetime) -> Campaign | None:
        return next((c for c in self.sent(at) if c.id == campaign_id), None)

    # --- each subscriber's interactions with a campaign ---

    def _draw(self, c: Campaign) -> list[Event]:
        r = self.spec["campaign"]
        rng = random.Random(f"{self.spec['seed']}:{c.id}")
        events: list[Event] = []

        def later(start: datetime, mean_hours: float) -> datetime:
            delay = timedelta(hours=rng.expovariate(1 / mean_hours))
            return start + min(delay, MAX_DELAY)

        def geometric(mean: float) -> int:
            return int(math.log(1 - rng.random()) / math.log(mean / (1 + mean)))

        for m in range(c.recipients):
            u = rng.random()
            if u < r["hard_bounce"] + r["soft_bounce"]:
                kind = "hard_bounce" if u < r["hard_bounce"] else "soft_bounce"
                events.append((c.send_time + timedelta(minutes=3), kind, m, 0.0))
                continue
            if rng.random() < r["unsubscribe_of_delivered"]:
                events.append((later(c.send_time, r["open_delay_hours"]), "unsubscribe", m, 0.0))
            if rng.random() >= c.open_p:
                continue
            first = later(c.send_time, r["open_delay_hours"])
            opens = [first] + [later(first, 24) for _ in range(geometric(r["more_opens_mean"]))]
            events += [(at, "open", m, 0.0) for at in opens]
            if rng.random() < r["forward_of_openers"]:
                events.append((first + timedelta(hours=1), "forward", m, 0.0))
                for _ in range(geometric(r["forward_opens_mean"])):
                    events.append((later(first, 6), "forward_open", m, 0.0))
            if rng.random() >= c.click_p:
                continue
            for _ in range(1 + geometric(r["more_clicks_mean"])):
                at = rng.choice(opens) + timedelta(seconds=rng.randint(5, 600))
                events.append((at, "click", m, float(rng.randrange(r["links"]))))
            if rng.random() < r["order_of_clickers"]:
                amount = round(rng.uniform(*r["order_amount"]), 2)
                events.append((first + timedelta(hours=2), "order", m, amount))
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        return events

    def until(self, c: Campaign, at: datetime) -> list[Event]:
        # Drawn once per process: every sandbox built from the same spec shares them.
        key = (self.spec["seed"], c.id, c.recipients, c.send_time)
        if key not in _DRAWN:
            events = self._draw(c)
            _DRAWN[key] = (events, [e[0] for e in events])
        events, times = _DRAWN[key]
        return events[: bisect.bisect_right(times, at)]

    def count(self, c: Campaign, at: datetime, kind: str) -> int:
        return sum(1 for e in self.until(c, at) if e[1] == kind)

    # --- what the API answers ---

    def report(self, c: Campaign, at: datetime) -> dict[str, Any]:
        seen = self.until(c, at)
        key = (c.id, len(seen))  # a report changes only with the events seen
        if key not in self._reports:
            self._reports[key] = self._report(c, seen)
        return copy.deepcopy(self._reports[key])

    def _report(self, c: Campaign, seen: list[Event]) -> dict[str, Any]:
        by: dict[str, list[Event]] = {}
        for e in seen:
            by.setdefault(e[1], []).append(e)
        opens, clicks, orders = by.get("open", []), by.get("click", []), by.get("order", [])
        hard, soft = len(by.get("hard_bounce", [])), len(by.get("soft_bounce", []))
        delivered = c.recipients - hard - soft
        unique_opens = len({e[2] for e in opens})
        subscriber_clicks = len({e[2] for e in clicks})
        revenue = round(sum(e[3] for e in orders), 2)
        share = 1 + float(self.spec["campaign"]["shipping_tax_share"])
        return {
            "id": c.id,
            "campaign_title": c.title,
            "list_id": c.audience["id"],
            "list_name": c.audience["name"],
            "subject_line": c.subject,
            "emails_sent": c.recipients,
            "unsubscribed": len(by.get("unsubscribe", [])),
            "send_time": iso(c.send_time),
            "bounces": {"hard_bounces": hard, "soft_bounces": soft, "syntax_errors": 0},
            "forwards": {
                "forwards_count": len(by.get("forward", [])),
                "forwards_opens": len(by.get("forward_open", [])),
            },
            "opens": {
                "opens_total": len(opens),
                "proxy_excluded_opens": len(opens),
                "unique_opens": unique_opens,
                "proxy_excluded_unique_opens": unique_opens,
                "open_rate": round(unique_opens / delivered, 6) if delivered else 0,
                "proxy_excluded_open_rate": round(unique_opens / delivered, 6) if delivered else 0,
                "last_open": iso(opens[-1][0]) if opens else "",
            },
            "clicks": {
                "clicks_total": len(clicks),
                "unique_clicks": len({(e[2], e[3]) for e in clicks}),
                "unique_subscriber_clicks": subscriber_clicks,
                "click_rate": round(subscriber_clicks / delivered, 6) if delivered else 0,
                "last_click": iso(clicks[-1][0]) if clicks else "",
            },
            "timeseries": self._timeseries(c, seen),
            "ecommerce": {
                "total_orders": len(orders),
                "total_spent": round(revenue * share, 2),
                "total_revenue": revenue,
                "currency_code": self.account["currency_code"],
            },
            **self.spec["report_fields"],
        }

    def _timeseries(self, c: Campaign, seen: list[Event]) -> list[dict[str, Any]]:
        """The first 24 hours after sending, hour by hour: distinct openers and clickers
        of each hour (Mailchimp's report `timeseries`)."""
        start = c.send_time.replace(minute=0, second=0)
        times = [e[0] for e in seen]
        out = []
        for hour in range(24):
            lo, hi = start + timedelta(hours=hour), start + timedelta(hours=hour + 1)
            inside = seen[bisect.bisect_left(times, lo) : bisect.bisect_left(times, hi)]
            out.append(
                {
                    "timestamp": iso(lo),
                    "emails_sent": c.recipients if hour == 0 else 0,
                    "unique_opens": len({e[2] for e in inside if e[1] == "open"}),
                    "recipients_clicks": len({e[2] for e in inside if e[1] == "click"}),
                }
            )
        return out

    def open_details(self, c: Campaign, at: datetime, since: datetime | None) -> dict[str, Any]:
        members: dict[int, list[str]] = {}
        for e in self.until(c, at):
            if e[1] == "open" and (since is None or e[0] > since):
                members.setdefault(e[2], []).append(iso(e[0]))
        rows = [
            {
                "campaign_id": c.id,
                "list_id": c.audience["id"],
                **self.spec["open_member_fields"],
                "email_id": email_id(c.audience["id"], m),
                "email_address": f"member{m}@{c.audience['id']}.example",
                "opens_count": len(stamps),
                "proxy_excluded_opens_count": len(stamps),
                "opens": [{"timestamp": s, "is_proxy_open": False} for s in stamps],
            }
            for m, stamps in sorted(members.items())
        ]
        return {"campaign_id": c.id, "members": rows}

    def list_body(self, lst: dict[str, Any], at: datetime) -> dict[str, Any]:
        sent = [c for c in self.sent(at) if c.audience["id"] == lst["id"]]
        rates = [self.report(c, at) for c in sent]
        mean = functools.partial(_mean, rates)
        fields = {"id": lst["id"], "web_id": lst["web_id"], "name": lst["name"]}
        return fields | {
            "date_created": lst["created"],
            "list_rating": 3,
            "stats": {
                "member_count": self.members(lst, at),
                "total_contacts": self.members(lst, at),
                "unsubscribe_count": sum(r["unsubscribed"] for r in rates),
                "cleaned_count": sum(r["bounces"]["hard_bounces"] for r in rates),
                "campaign_count": len(sent),
                "campaign_last_sent": max((r["send_time"] for r in rates), default=""),
                # Lists give rates as percentages (reports as fractions).
                "open_rate": round(100 * mean("opens", "open_rate"), 2),
                "click_rate": round(100 * mean("clicks", "click_rate"), 2),
            },
            "_links": [],
        }

    def growth_history(self, lst: dict[str, Any], at: datetime) -> list[dict[str, Any]]:
        months = []
        day = self.start.replace(day=1)
        last = at.astimezone(self.zone).date()
        while day <= last:
            following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
            end = min(datetime.combine(following, time(), self.zone), at)
            begin = datetime.combine(day, time(), self.zone)
            months.append(
                {
                    "list_id": lst["id"],
                    "month": day.strftime("%Y-%m"),
                    "existing": self.members(lst, begin),
                    "optins": int(lst["daily_joins"] * (end - begin).total_seconds() / 86400),
                    "imports": 0,
                    "subscribed": self.members(lst, end),
                }
            )
            day = following
        return sorted(months, key=lambda m: m["month"], reverse=True)


def _mean(reports: list[dict[str, Any]], group: str, name: str) -> float:
    values = [float(r[group][name]) for r in reports]
    return sum(values) / len(values) if values else 0.0
