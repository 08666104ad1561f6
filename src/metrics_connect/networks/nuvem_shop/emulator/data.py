"""The sandbox store's orders, abandoned checkouts and coupons, and how they change over
the emulator's clock.

Every order is drawn once from the seeded spec in data.yaml: its customer (new, or one
who bought before), products, coupon, shipping option, payment method and UTM source,
then its timed changes: paid hours later (or voided, or left pending until the gateway
abandons it), shipped, closed, and a few refunded weeks later (payment `refunded`,
status `cancelled`). `Order.state(at)` is what the API serves at `at`: the fields as of
then, `updated_at` at the last change. Abandoned checkouts are listed for
`retention_days` after their creation unless the customer came back (recovered: gone).
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from metrics_connect.sandbox.kit.records import poisson
from metrics_connect.sandbox.kit.seeded import draws
from metrics_connect.sandbox.kit.spec import load_document

Fields = dict[str, Any]
DAY = timedelta(days=1)
ORDER_ID_BASE = 1_700_000_000
CUSTOMER_ID_BASE = 80_000_000
CHECKOUT_ID_BASE = 900_000_000


def stamp(at: datetime) -> str:
    """Nuvemshop's instants: UTC with a +0000 offset."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def money(value: float) -> str:
    return f"{value:.2f}"


@dataclass
class Order:
    id: int
    created: datetime
    base: Fields
    changes: list[tuple[datetime, Fields]] = field(default_factory=list)

    def updated(self, at: datetime) -> datetime:
        index = bisect.bisect_right([when for when, _ in self.changes], at)
        return self.changes[index - 1][0] if index else self.created

    def state(self, at: datetime) -> Fields:
        fields = dict(self.base)
        for when, delta in self.changes:
            if when > at:
                break
            fields.update(delta)
        fields["updated_at"] = stamp(self.updated(at))
        return fields


@dataclass
class Checkout:
    id: int
    created: datetime
    fields: Fields
    recovered_at: datetime | None


class StoreData:
    """The store's history, generated once from data.yaml."""

    def __init__(self) -> None:
        self.spec: dict[str, Any] = load_document(__package__ or "", "data.yaml", dict[str, Any])
        self.store: Fields = self.spec["store"]
        self.start = datetime.fromisoformat(self.spec["history_start"])
        self.end = datetime.fromisoformat(self.spec["history_end"])
        self.orders: list[Order] = []
        self.checkouts: list[Checkout] = []
        self.customers: list[tuple[datetime, Fields]] = []
        self.coupon_uses: dict[int, list[datetime]] = {}
        self._generate()
        self.created = [o.created for o in self.orders]

    # --- generation ---

    def _generate(self) -> None:
        seed = self.spec["seed"]
        for n in range((self.end - self.start).days):
            day = self.start + n * DAY
            weekday = 1.0 if day.weekday() < 5 else 0.7
            rng = draws(seed, "orders", n)
            times = sorted(
                day + timedelta(hours=rng.uniform(7, 23.9))
                for _ in range(poisson(rng.random(), self.spec["orders_per_day"] * weekday, cap=60))
            )
            for created in times:
                self._order(created, rng)
            crng = draws(seed, "checkouts", n)
            for _ in range(poisson(crng.random(), self.spec["checkouts_per_day"], cap=60)):
                self._checkout(day + timedelta(hours=crng.uniform(7, 23.9)), crng)
        self.checkouts.sort(key=lambda c: c.created)

    def _customer(self, created: datetime, rng: random.Random) -> Fields:
        older = bisect.bisect_right([c for c, _ in self.customers], created - 2 * DAY)
        if older and rng.random() < self.spec["returning_share"]:
            return self.customers[int(rng.random() * older)][1]
        number = len(self.customers) + 1
        since = created - timedelta(minutes=rng.uniform(2, 20))
        customer = {
            "id": CUSTOMER_ID_BASE + number,
            "name": f"Cliente {number}",
            "email": f"cliente{number}@compradores.example",
            "created_at": stamp(since),
        }
        self.customers.append((since, customer))
        return customer

    def _lines(self, rng: random.Random) -> list[Fields]:
        chosen = rng.sample(self.spec["products"], k=rng.choice([1, 1, 1, 2, 2, 3]))
        return [
            {
                "id": int(rng.random() * 1e9),
                "product_id": p["id"],
                "variant_id": p["id"] * 10 + 1,
                "name": p["name"],
                "price": money(p["price"]),
                "quantity": rng.choice([1, 1, 1, 2, 3]),
                "sku": f"AUR-{p['id']}",
            }
            for p in chosen
        ]

    def _coupon(self, created: datetime, rng: random.Random) -> Fields | None:
        if rng.random() >= self.spec["coupon_share"]:
            return None
        today = created.date()
        valid = [
            c
            for c in self.spec["coupons"]
            if date.fromisoformat(c["start_date"]) <= today <= date.fromisoformat(c["end_date"])
            and (c["max_uses"] is None or len(self.coupon_uses.get(c["id"], [])) < c["max_uses"])
        ]
        if not valid:
            return None
        coupon = valid[int(rng.random() * len(valid))]
        self.coupon_uses.setdefault(coupon["id"], []).append(created)
        return coupon

    def _order(self, created: datetime, rng: random.Random) -> None:
        spec = self.spec
        index = len(self.orders)
        lines = self._lines(rng)
        subtotal = sum(float(line["price"]) * line["quantity"] for line in lines)
        options = spec["shipping_options"]
        option = rng.choices(options, [s["weight"] for s in options])[0]
        payment = rng.choices(spec["payments"], [p["weight"] for p in spec["payments"]])[0]
        province = rng.choices(list(spec["provinces"]), list(spec["provinces"].values()))[0]
        utm = rng.choices(list(spec["utm_sources"]), list(spec["utm_sources"].values()))[0]
        shipping_cost = round(rng.uniform(*option["cost"]), 2)
        coupon = self._coupon(created, rng)
        discount_coupon = 0.0
        if coupon is not None and coupon["type"] == "percentage":
            discount_coupon = round(subtotal * float(coupon["value"]) / 100, 2)
        elif coupon is not None and coupon["type"] == "absolute":
            discount_coupon = min(float(coupon["value"]), subtotal)
        elif coupon is not None:  # shipping: the customer pays no shipping
            shipping_cost = 0.0
        discount_gateway = round(subtotal * 0.05, 2) if payment["method"] == "pix" else 0.0
        discount = discount_coupon + discount_gateway
        total = round(subtotal - discount + shipping_cost, 2)
        low, high = option["days"]
        min_days = int(rng.uniform(low, high))
        order = Order(
            ORDER_ID_BASE + index,
            created,
            {
                "id": ORDER_ID_BASE + index,
                "number": 100 + index,
                "token": f"{rng.getrandbits(64):016x}",
                "store_id": self.store["id"],
                "customer": self._customer(created, rng),
                "products": lines,
                "coupon": [_coupon_fields(coupon)] if coupon else [],
                "subtotal": money(subtotal),
                "discount": money(discount),
                "discount_coupon": money(discount_coupon),
                "discount_gateway": money(discount_gateway),
                "total": money(total),
                "total_usd": money(total / spec["usd_to_brl"]),
                "currency": self.store["main_currency"],
                "gateway": payment["gateway"],
                "gateway_name": payment["gateway_name"],
                "payment_details": {
                    "method": payment["method"],
                    "credit_card_company": "visa" if payment["method"] == "credit_card" else None,
                    "installments": rng.randint(*payment.get("installments", [1, 1])),
                },
                "shipping": option["shipping"],
                "shipping_option": option["option"],
                "shipping_pickup_type": "pickup" if option.get("pickup") else "ship",
                "shipping_address": {"province": province, "country": "BR"},
                "shipping_min_days": min_days,
                "shipping_max_days": min(int(high), min_days + 3),
                "shipping_cost_customer": money(shipping_cost),
                "shipping_cost_owner": money(round(rng.uniform(*option["cost"]), 2)),
                "landing_site": (
                    f"https://{self.store['original_domain']}/?utm_source={utm}&utm_medium=social"
                    if utm
                    else None
                ),
                **spec["order_defaults"],
                "created_at": stamp(created),
            },
        )
        self._lifecycle(order, payment["method"], rng)
        self.orders.append(order)

    def _lifecycle(self, order: Order, method: str, rng: random.Random) -> None:
        life, at = self.spec["lifecycle"], order.created

        def cancel(when: datetime, payment: str, reason: str) -> None:
            fields = {"payment_status": payment, "status": "cancelled", "cancel_reason": reason}
            order.changes.append((when, fields | {"cancelled_at": stamp(when)}))

        chance = rng.random()
        if chance < life["paid_share"]:
            hours = rng.uniform(24, 72) if method == "boleto" else rng.uniform(0.05, 3)
            paid = at + timedelta(hours=hours)
            shipped = paid + timedelta(days=rng.uniform(*life["ship_days"]))
            closed = shipped + timedelta(days=rng.uniform(*life["close_days"]))
            order.changes += [
                (paid, {"payment_status": "paid", "paid_at": stamp(paid)}),
                (shipped, {"shipping_status": "shipped", "shipped_at": stamp(shipped)}),
                (closed, {"status": "closed", "closed_at": stamp(closed)}),
            ]
            if rng.random() < life["refund_share"]:
                refunded = paid + timedelta(days=rng.uniform(*life["refund_days"]))
                cancel(refunded, "refunded", "customer")
        else:
            voided = chance < life["paid_share"] + life["voided_share"]
            hours = rng.uniform(1, 48) if voided else rng.uniform(72, 120)
            cancel(at + timedelta(hours=hours), "voided" if voided else "abandoned", "other")
        order.changes.sort(key=lambda change: change[0])

    def _checkout(self, created: datetime, rng: random.Random) -> None:
        spec = self.spec["checkouts"]
        lines = self._lines(rng)
        subtotal = sum(float(line["price"]) * line["quantity"] for line in lines)
        reached = rng.random()
        did = {step: reached < share for step, share in spec["steps"].items()}
        number = len(self.checkouts) + 1
        province = rng.choice(list(self.spec["provinces"]))
        option = rng.choice(self.spec["shipping_options"])
        fields: Fields = {
            "id": CHECKOUT_ID_BASE + number,
            "token": f"{rng.getrandbits(64):016x}",
            "store_id": self.store["id"],
            "contact_email": f"visitante{number}@example.com" if did["contact"] else None,
            "contact_name": f"Visitante {number}" if did["contact"] else None,
            "shipping_province": province if did["address"] else None,
            "shipping_zipcode": "01310-100" if did["address"] else None,
            "shipping_option": option["option"] if did["shipping"] else None,
            "payment_details": {
                "method": rng.choice(["credit_card", "pix"]) if did["payment"] else None,
                "installments": 1,
            },
            "products": lines,
            "subtotal": money(subtotal),
            "total": money(subtotal),
            "currency": self.store["main_currency"],
            "created_at": stamp(created),
            "updated_at": stamp(created),
            "completed_at": None,
        }
        recovered = None
        if rng.random() < spec["recovered_share"]:
            recovered = created + timedelta(days=rng.uniform(0.2, 3))
        self.checkouts.append(Checkout(int(fields["id"]), created, fields, recovered))

    # --- what the store holds at an instant ---

    def orders_at(self, at: datetime) -> list[Order]:
        return self.orders[: bisect.bisect_right(self.created, at)]

    def checkouts_at(self, at: datetime) -> list[Checkout]:
        """The abandoned checkouts listed at `at`: within retention, not recovered."""
        since = at - timedelta(days=self.spec["checkouts"]["retention_days"])
        return [
            c
            for c in self.checkouts
            if since < c.created <= at and (c.recovered_at is None or c.recovered_at > at)
        ]

    def coupons_at(self, at: datetime) -> list[Fields]:
        """The coupons created by `at` (a week before they start), with uses and validity."""
        listed = []
        for coupon in self.spec["coupons"]:
            start, end = (
                date.fromisoformat(coupon["start_date"]),
                date.fromisoformat(coupon["end_date"]),
            )
            if at.date() < start - timedelta(days=7):
                continue
            uses = bisect.bisect_right(self.coupon_uses.get(coupon["id"], []), at)
            fields = _coupon_fields(coupon) | {"used": uses}
            within = start <= at.date() <= end
            fields["valid"] = within and (coupon["max_uses"] is None or uses < coupon["max_uses"])
            listed.append(fields)
        return listed


def _coupon_fields(coupon: dict[str, Any]) -> Fields:
    return {**coupon, "valid": True, "used": 0, "min_price": 0, "categories": None}
