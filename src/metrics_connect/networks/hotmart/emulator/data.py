"""The sandbox producer's purchases and how their status moves over the emulator's clock.

Each purchase (a `TimedRecord` keyed by its transaction code) is drawn from data.yaml: a
card or Pix purchase is APPROVED at checkout (a refused card is CANCELLED), a billet is
PRINTED_BILLET until paid (then APPROVED) or EXPIRED; an approved purchase is REFUNDED
within its product's warranty, disputed (CHARGEBACK) weeks later, or COMPLETE when the
warranty ends. `window(start, end, at)` is what the sales history sees at `at`: the
purchases ordered in [start, end] with their status then.
"""

from __future__ import annotations

import bisect
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from metrics_connect import safe_yaml
from metrics_connect.sandbox.kit.records import RecordBook, TimedRecord, poisson
from metrics_connect.sandbox.kit.seeded import draws

DAY = timedelta(days=1)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _pick(rng: Any, weights: dict[str, float]) -> str:
    return str(rng.choices(list(weights), weights=list(weights.values()))[0])


class SalesData(RecordBook):
    """The producer's purchases, generated once from data.yaml, in order-date order."""

    def __init__(self, spec_path: Path | None = None) -> None:
        path = spec_path or Path(__file__).with_name("data.yaml")
        self.spec: dict[str, Any] = safe_yaml.load(path.read_text(encoding="utf-8"))
        self.producer: dict[str, str] = self.spec["producer"]
        self.products: list[dict[str, Any]] = self.spec["products"]
        self.start = datetime.fromisoformat(self.spec["history_start"])
        self.end = datetime.fromisoformat(self.spec["history_end"])
        super().__init__(("purchases",))
        self._generate()
        self.seal()
        self.ordered = [r.created for r in self.records["purchases"]]

    def window(self, start: datetime, end: datetime, at: datetime) -> list[dict[str, Any]]:
        """The purchases ordered in [start, end] (and by `at`), with their fields at `at`."""
        listed = self.records["purchases"]
        first = bisect.bisect_left(self.ordered, start)
        last = bisect.bisect_right(self.ordered, min(end, at))
        found = []
        for record in listed[first:last]:
            fields = record.state(at)
            if fields is not None:
                found.append(fields)
        return found

    # --- generation ---

    def _generate(self) -> None:
        seed, spec = self.spec["seed"], self.spec
        for n in range((self.end - self.start).days):
            day = self.start + n * DAY
            weekday = 1.0 if day.weekday() < 5 else 0.7
            rng = draws(seed, "purchases", n)
            for _ in range(poisson(rng.random(), spec["purchases_per_day"] * weekday)):
                ordered = day + timedelta(seconds=rng.uniform(0, 86400))
                self._purchase(ordered, rng)

    def _purchase(self, ordered: datetime, rng: Any) -> None:
        spec = self.spec
        listed = self.records["purchases"]
        code = f"HP{17000000000000 + len(listed) * 7919 + int(rng.random() * 7000):014d}"
        record = TimedRecord(code, "purchases", ordered, "order_iso", "modified_iso", "transaction")
        listed.append(record)
        product = rng.choices(self.products, weights=[p["share"] for p in self.products])[0]
        currency = _pick(rng, spec["currencies"])
        price = float(product["price"][currency])
        if rng.random() < spec["coupon_share"]:
            price = round(price * (1 - rng.uniform(0.1, 0.3)), 2)
        payment = _pick(rng, spec["payment_types"])
        fee = round(price * spec["hotmart_fee_percentage"] / 100, 2)
        fee += spec["hotmart_fee_fixed"][currency]
        record.change(
            ordered,
            {
                "product_id": product["id"],
                "product_name": product["name"],
                "order_date": ms(ordered),
                "approved_date": None,
                "status": "PRINTED_BILLET" if payment == "BILLET" else "APPROVED",
                "price": price,
                "currency": currency,
                "payment_type": payment,
                "installments": rng.choice([1, 1, 1, 2, 3, 6, 12])
                if payment == "CREDIT_CARD"
                else 1,
                "source": rng.choice(spec["sources"]),
                "offer_code": f"off{product['id'] % 1000:03d}{currency.lower()}",
                "fee": round(fee, 2),
                "buyer": f"buyer{len(listed):06d}@sandbox.example",
            },
        )
        if payment == "CREDIT_CARD" and rng.random() < spec["card_refused_share"]:
            record.change(ordered, {"status": "CANCELLED"})
            return
        approved = ordered + timedelta(seconds=rng.uniform(5, 120))
        if payment == "BILLET":
            if rng.random() >= spec["billet_paid_share"]:
                record.change(ordered + 3 * DAY, {"status": "EXPIRED"})
                return
            approved = ordered + timedelta(days=rng.uniform(1, 3))
        warranty = approved + timedelta(days=product["warranty_days"])
        record.change(
            approved,
            {
                "status": "APPROVED",
                "approved_date": ms(approved),
                "warranty_expire_date": ms(warranty),
            },
        )
        draw = rng.random()
        if draw < spec["refund_share"]:
            refunded = approved + (warranty - approved) * math.sqrt(rng.random())
            record.change(refunded, {"status": "REFUNDED"})
        elif payment == "CREDIT_CARD" and draw < spec["refund_share"] + spec["chargeback_share"]:
            disputed = approved + timedelta(days=rng.uniform(20, 90))
            if warranty < disputed:
                record.change(warranty, {"status": "COMPLETE"})
            record.change(disputed, {"status": "CHARGEBACK"})
        else:
            record.change(warranty, {"status": "COMPLETE"})
