"""The sandbox ActiveCampaign account's contacts, deals, campaigns and automation entries
and how they change over the emulator's clock (docs/networks/active_campaign.md).

A contact is created (`cdate`), some through a form (its list subscription names the
form), some edited later (`udate`), a few deleted (gone from every listing); many enter
an automation (a contactAutomation, `adddate`), half of those complete it (`remdate`,
status 2). A deal starts in its pipeline's first stage, moves stage by stage (`mdate` at
every move) and is won (status 1) or lost (status 2), or stays open; its `value` is in
cents of its pipeline's currency. A campaign is sent (`sdate`) to an audience and its
opens, clicks, bounces... keep arriving for days. `live(object, at)` is what the API
lists at `at`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from metrics_connect import safe_yaml
from metrics_connect.sandbox.kit.records import RecordBook, TimedRecord, iso_ms, poisson
from metrics_connect.sandbox.kit.seeded import draws

OBJECTS = ("contacts", "deals", "campaigns", "contactAutomations")
DATES = {  # (created field, modified field) as ActiveCampaign names them
    "contacts": ("cdate", "udate"),
    "deals": ("cdate", "mdate"),
    "campaigns": ("cdate", "mdate"),
    "contactAutomations": ("adddate", "lastdate"),
}
DAY = timedelta(days=1)
RATES = {
    "unsubscribes": "unsubscribe",
    "hardbounces": "hardbounce",
    "forwards": "forward",
    "replies": "reply",
}  # campaign figure: its rate of the audience in data.yaml
SETTLE = (0.45, 0.75, 0.9, 1.0)  # share of a campaign's final figures at each step


class ActiveCampaignData(RecordBook):
    def __init__(self, spec_path: Path | None = None) -> None:
        path = spec_path or Path(__file__).with_name("data.yaml")
        self.spec: dict[str, Any] = safe_yaml.load(path.read_text(encoding="utf-8"))
        self.account: dict[str, Any] = self.spec["account"]
        self.users: list[dict[str, Any]] = self.spec["users"]
        self.pipelines: list[dict[str, Any]] = self.spec["pipelines"]
        self.lists: list[dict[str, Any]] = self.spec["lists"]
        self.forms: list[dict[str, Any]] = self.spec["forms"]
        self.automations: list[dict[str, Any]] = self.spec["automations"]
        self.start = datetime.fromisoformat(self.spec["history_start"])
        self.end = datetime.fromisoformat(self.spec["history_end"])
        super().__init__(OBJECTS)
        self._generate()
        self.seal()

    def _new(self, name: str, created: datetime) -> TimedRecord:
        listed = self.records[name]
        created_field, modified_field = DATES[name]
        record = TimedRecord(
            str(len(listed) + 1),
            name,
            created,
            created_field=created_field,
            modified_field=modified_field,
        )
        listed.append(record)
        return record

    def _generate(self) -> None:
        for n in range((self.end - self.start).days):
            day = self.start + n * DAY
            weekday = 1.0 if day.weekday() < 5 else 0.3
            for name, rate in self.spec["per_day"].items():
                rng = draws(self.spec["seed"], name, n)
                for _ in range(poisson(rng.random(), rate * weekday)):
                    created = day + timedelta(seconds=rng.uniform(13 * 3600, 27 * 3600))
                    getattr(self, f"_{name}")(self._new(name, created), rng)

    def _contacts(self, contact: TimedRecord, rng: Any) -> None:
        spec, at = self.spec["contacts"], contact.created
        form = rng.choice(self.forms) if rng.random() < spec["by_form"] else None
        listed = form["list"] if form else rng.choice(self.lists)["id"]
        subscription = {
            "list": listed,
            "form": form["id"] if form else None,
            "sdate": iso_ms(at),
            "status": "1",
        }
        contact.change(
            at,
            {
                "email": f"contact{contact.id}@example.org",
                "firstName": rng.choice(["Ana", "Ben", "Chloe", "Diego", "Eve", "Femi"]),
                "lastName": rng.choice(["Silva", "Smith", "Novak", "Ito", "Haddad"]),
                "phone": "",
                "contactLists": [subscription],
            },
        )
        if rng.random() < spec["edit_share"]:
            contact.change(at + rng.uniform(0.5, 40) * DAY, {"phone": f"+1555{contact.id:0>7}"})
        if rng.random() < spec["deleted_share"]:
            contact.archived_at = at + rng.uniform(1, 60) * DAY
        if rng.random() < spec["automation_share"]:
            automation = rng.choices(
                self.automations, weights=[a["share"] for a in self.automations]
            )[0]
            entry = self._new("contactAutomations", at + timedelta(minutes=rng.uniform(1, 30)))
            entry.change(
                entry.created,
                {
                    "contact": contact.id,
                    "automation": automation["id"],
                    "status": "1",
                    "remdate": None,
                    "completedElements": "0",
                },
            )
            if rng.random() < spec["complete_share"]:
                done = entry.created + rng.uniform(1, 14) * DAY
                entry.change(done, {"status": "2", "remdate": iso_ms(done)})

    def _deals(self, deal: TimedRecord, rng: Any) -> None:
        spec, at = self.spec["deals"], deal.created
        pipeline = rng.choices(self.pipelines, weights=[p["share"] for p in self.pipelines])[0]
        stages = pipeline["stages"]
        low, high = spec["value"]
        deal.change(
            at,
            {
                "title": f"Deal {deal.id}",
                "value": str(round(rng.uniform(low, high)) * 100),
                "currency": pipeline["currency"],
                "group": pipeline["id"],
                "stage": stages[0]["id"],
                "owner": rng.choice(self.users)["id"],
                "status": "0",
                "contact": str(rng.randint(1, 2000)),
            },
        )
        if rng.random() < spec["deleted_share"]:
            deal.archived_at = at + rng.uniform(1, 30) * DAY
        stays_open = rng.random() < spec["stays_open"]
        index = 0
        while True:
            at += rng.uniform(*spec["stage_days"]) * DAY
            last = index == len(stages) - 1
            if stays_open and (last or rng.random() < 0.4):
                return
            if not last and rng.random() < spec["advance"]:
                index += 1
                deal.change(at, {"stage": stages[index]["id"]})
                continue
            won = last and rng.random() < spec["win_at_last"]
            deal.change(at, {"status": "1" if won else "2"})
            return

    def _campaigns(self, campaign: TimedRecord, rng: Any) -> None:
        spec, at = self.spec["campaigns"], campaign.created
        automation = None
        if rng.random() < spec["automation_share"]:
            automation = rng.choice(self.automations)["id"]
        sent = at + rng.uniform(0.1, 2) * DAY
        audience = rng.randint(*spec["audience"])
        final = {"send_amt": audience}
        final["uniqueopens"] = round(audience * rng.uniform(*spec["open_rate"]))
        final["opens"] = round(final["uniqueopens"] * rng.uniform(1.1, 1.8))
        final["uniquelinkclicks"] = round(
            final["uniqueopens"] * rng.uniform(*spec["click_of_opens"])
        )
        final["linkclicks"] = round(final["uniquelinkclicks"] * rng.uniform(1.0, 1.6))
        for field, rate in RATES.items():
            final[field] = round(audience * rng.uniform(*spec[rate]))
        campaign.change(
            at,
            {
                "name": f"{'Automated' if automation else 'Broadcast'} email {campaign.id}",
                "type": "auto" if automation else "single",
                "status": "1",  # scheduled
                "automation": automation or "0",
                "sdate": None,
                **{k: "0" for k in final},
            },
        )
        for step, share in enumerate(SETTLE):
            at_step = sent + step * (spec["settle_days"] / (len(SETTLE) - 1)) * DAY
            figures = {k: str(round(v * share)) for k, v in final.items() if k != "send_amt"}
            sending = {"status": "5", "sdate": iso_ms(sent), "send_amt": str(audience)}
            campaign.change(at_step, {**sending, **figures, "ldate": iso_ms(at_step)})
