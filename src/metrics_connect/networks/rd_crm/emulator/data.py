"""The sandbox RD Station CRM account's deals and tasks and how they change over the
emulator's clock (docs/networks/rd_crm.md).

A deal is created in a funnel's first stage, moves on stage by stage (`updated_at` at
every move), is won (`win: true`) or lost with a reason (`win: false`) at `closed_at`,
or stays open (some put on hold, `hold: true`); some have a product's quantity edited,
a few are deleted (gone from every listing). A task is due on `date`, some done at
`done_date`. `live(object, at)` is what RD Station CRM lists at `at`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from metrics_connect import safe_yaml
from metrics_connect.sandbox.kit.records import RecordBook, TimedRecord, iso_ms, poisson
from metrics_connect.sandbox.kit.seeded import draws

OBJECTS = ("deals", "tasks")
ID_PREFIX = {"deals": "65a0", "tasks": "65b0"}  # ids look like MongoDB ObjectIds
DAY = timedelta(days=1)


class RdCrmData(RecordBook):
    def __init__(self, spec_path: Path | None = None) -> None:
        path = spec_path or Path(__file__).with_name("data.yaml")
        self.spec: dict[str, Any] = safe_yaml.load(path.read_text(encoding="utf-8"))
        self.account: dict[str, Any] = self.spec["account"]
        self.users: list[dict[str, Any]] = self.spec["users"]
        self.teams: list[dict[str, Any]] = self.spec["teams"]
        self.pipelines: list[dict[str, Any]] = self.spec["pipelines"]
        self.products: list[dict[str, Any]] = self.spec["products"]
        self.start = datetime.fromisoformat(self.spec["history_start"])
        self.end = datetime.fromisoformat(self.spec["history_end"])
        super().__init__(OBJECTS)
        self._generate()
        self.seal()

    def _new(self, name: str, created: datetime) -> TimedRecord:
        listed = self.records[name]
        record = TimedRecord(
            f"{ID_PREFIX[name]}{len(listed) + 1:020x}",
            name,
            created,
            created_field="created_at",
            modified_field="updated_at",
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
                    created = day + timedelta(seconds=rng.uniform(11 * 3600, 23 * 3600))
                    getattr(self, f"_{name}")(self._new(name, created), rng)

    def user(self, rng: Any) -> dict[str, Any]:
        user = rng.choice(self.users)
        return {"id": user["id"], "name": user["name"], "email": user["email"]}

    def _deals(self, deal: TimedRecord, rng: Any) -> None:
        spec, at = self.spec["deals"], deal.created
        pipeline = rng.choices(self.pipelines, weights=[p["share"] for p in self.pipelines])[0]
        stages = pipeline["stages"]
        lines = []
        for product in rng.sample(self.products, rng.randint(1, 2)):
            low, high = product["price"]
            price = round(math.exp(rng.uniform(math.log(low), math.log(high))), 2)
            quantity = rng.randint(*spec["quantity"])
            lines.append(_line(product, price, quantity))

        def stage(index: int) -> dict[str, Any]:
            s = stages[index]
            return {"deal_stage": {"id": s["id"], "name": s["name"], "nickname": s["nickname"]}}

        deal.change(
            at,
            {
                "name": f"Negociação {deal.id[-4:]}",
                "user": self.user(rng),
                "deal_pipeline": {"id": pipeline["id"], "name": pipeline["name"]},
                **stage(0),
                "win": None,
                "hold": None,
                "closed_at": None,
                "deal_lost_reason": None,
                "rating": rng.randint(1, 5),
                **_priced(lines),
            },
        )
        if rng.random() < spec["edit_share"]:
            edited = [_line(lines[0], lines[0]["price"], lines[0]["amount"] + 1), *lines[1:]]
            deal.change(at + rng.uniform(0.2, 20) * DAY, _priced(edited))
        if rng.random() < spec["deleted_share"]:
            deal.archived_at = at + rng.uniform(1, 30) * DAY
        stays_open = rng.random() < spec["stays_open"]
        index = 0
        while True:
            at += rng.uniform(*spec["stage_days"]) * DAY
            last = index == len(stages) - 1
            if stays_open and (last or rng.random() < 0.4):
                if rng.random() < spec["paused_share"]:
                    deal.change(at, {"hold": True})
                return
            if not last and rng.random() < spec["advance"]:
                index += 1
                deal.change(at, stage(index))
                continue
            won = last and rng.random() < spec["win_at_last"]
            reason = None if won else rng.choice(self.spec["lost_reasons"])
            deal.change(at, {"win": won, "closed_at": iso_ms(at), "deal_lost_reason": reason})
            return

    def _tasks(self, task: TimedRecord, rng: Any) -> None:
        spec = self.spec["tasks"]
        kinds = list(spec["types"])
        kind = rng.choices(kinds, weights=[spec["types"][k] for k in kinds])[0]
        due = task.created + rng.randint(*spec["due_days"]) * DAY
        user = self.user(rng)
        task.change(
            task.created,
            {
                "subject": f"{kind.capitalize()} {task.id[-4:]}",
                "type": kind,
                "date": due.date().isoformat(),
                "hour": due.strftime("%H:%M"),
                "done": False,
                "done_date": None,
                "users": [user],
                "user_ids": [user["id"]],
            },
        )
        if rng.random() < spec["done_share"]:
            done = due + timedelta(hours=rng.uniform(-6, 30))
            done = max(done, task.created + timedelta(minutes=5))
            task.change(done, {"done": True, "done_date": iso_ms(done)})


def _line(product: dict[str, Any], price: float, quantity: int) -> dict[str, Any]:
    return {
        "id": product["id"],
        "product_id": product["id"],
        "name": product["name"],
        "price": price,
        "amount": quantity,
        "total": round(price * quantity, 2),
    }


def _priced(lines: list[dict[str, Any]]) -> dict[str, Any]:
    total = round(sum(line["total"] for line in lines), 2)
    return {
        "deal_products": lines,
        "amount_total": total,
        "amount_unique": total,
        "amount_montly": 0.0,
    }
