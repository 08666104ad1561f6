"""The sandbox RD Station Marketing account's numbers, drawn per day from the seeded spec
in data.yaml (the same day always draws the same numbers): the funnel's visitors, leads,
qualified contacts, opportunities and sales; e-mail campaigns with their send instant and
engagement; each conversion asset's visits and conversions; each flow e-mail's
deliveries, unique opens and clicks. Ranges are sums of their days. The leads base
(contacts) is `leads.py`'s."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from metrics_connect import safe_yaml
from metrics_connect.networks.rd_station.emulator.leads import LeadBase
from metrics_connect.sandbox.kit.records import poisson
from metrics_connect.sandbox.kit.seeded import draws

DAY = timedelta(days=1)


class MarketingData:
    def __init__(self, spec_path: Path | None = None) -> None:
        path = spec_path or Path(__file__).with_name("data.yaml")
        self.spec: dict[str, Any] = safe_yaml.load(path.read_text(encoding="utf-8"))
        self.account: dict[str, Any] = self.spec["account"]
        self.start = date.fromisoformat(self.spec["history_start"])
        self.seed = self.spec["seed"]
        self.day = lru_cache(maxsize=4096)(self._day)
        self.leads = LeadBase(self.spec, self.seed)

    def days(self, start: date, end: date) -> list[date]:
        first = max(start, self.start)
        return [first + n * DAY for n in range((end - first).days + 1)]

    def _weight(self, day: date) -> float:
        return 1.0 if day.weekday() < 5 else 0.4

    def _day(self, day: date) -> dict[str, Any]:
        """Everything of one day: its funnel, campaigns, asset and flow e-mail figures."""
        spec, rng, weight = self.spec, draws(self.seed, "day", day.isoformat()), self._weight(day)
        f = spec["funnel"]
        leads = poisson(rng.random(), f["contacts_count"] * weight)
        qualified = sum(rng.random() < f["qualified_share"] for _ in range(leads))
        opportunities = sum(rng.random() < f["opportunity_share"] for _ in range(qualified))
        funnel = {
            "reference_day": day.isoformat(),
            "visitors_count": poisson(rng.random(), min(f["visitors_count"] * weight, 45.0)) * 20,
            "contacts_count": leads,
            "qualified_contacts_count": qualified,
            "opportunities_count": opportunities,
            "sales_count": sum(rng.random() < f["sale_share"] for _ in range(opportunities)),
        }
        campaigns = [
            self._campaign(day, n, rng)
            for n in range(poisson(rng.random(), spec["emails"]["per_week"] / 7 * weight * 1.4))
        ]
        assets = {}
        for asset in spec["assets"]:
            visits = poisson(rng.random(), asset["visits"] * weight)
            converted = sum(rng.random() < asset["rate"] for _ in range(visits))
            assets[asset["asset_id"]] = (visits, converted)
        flows = {}
        for flow in spec["workflows"]:
            for name in flow["emails"]:
                delivered = poisson(rng.random(), flow["delivered"] * weight / len(flow["emails"]))
                opened = sum(rng.random() < 0.45 for _ in range(delivered))
                clicked = sum(rng.random() < 0.3 for _ in range(opened))
                flows[(flow["workflow_id"], name)] = (delivered, opened, clicked)
        return {"funnel": funnel, "campaigns": campaigns, "assets": assets, "flows": flows}

    def _campaign(self, day: date, n: int, rng: Any) -> dict[str, Any]:
        e = self.spec["emails"]
        contacts = rng.randint(*e["contacts"])
        dropped = round(contacts * rng.uniform(*e["dropped"]))
        bounced = round(contacts * rng.uniform(*e["bounced"]))
        delivered = contacts - dropped - bounced
        opened = round(delivered * rng.uniform(*e["opened"]))
        clicked = round(opened * rng.uniform(*e["clicked"]))
        send_at = datetime(day.year, day.month, day.day, 13 + n, rng.randint(0, 59), 7)
        return {
            "campaign_id": int(day.strftime("%Y%m%d")) * 10 + n,
            "campaign_name": f"{rng.choice(e['names'])} {day.isoformat()}",
            "send_at": send_at.isoformat() + ".000Z",
            "contacts_count": contacts,
            "email_dropped_count": dropped,
            "email_delivered_count": delivered,
            "email_bounced_count": bounced + rng.randint(0, 3),
            "email_bounced_unique_count": bounced,
            "email_opened_count": opened + round(opened * rng.uniform(0.1, 0.6)),
            "email_opened_unique_count": opened,
            "email_clicked_count": clicked + round(clicked * rng.uniform(0.1, 0.5)),
            "email_clicked_unique_count": clicked,
            "email_unsubscribed_count": round(delivered * rng.uniform(*e["unsubscribed"])),
            "email_spam_reported_count": round(delivered * rng.uniform(*e["spam"])),
        }
