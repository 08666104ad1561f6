"""The sandbox store's orders and how they change over the emulator's clock.

Every order is drawn once from the seeded spec in data.yaml: its customer (registered or
a guest), lines, coupon, tax rate (by billing state) and shipping, then its path through
WooCommerce's statuses (pending -> processing or on-hold -> completed; cancelled; failed),
refunds made days after completion (partial, or in full: status `refunded`), and a trash
for some of the unpaid ones. `order_json(order, at)` is what the REST API answers at `at`:
the status reached by then, the refunds made by then, `date_modified` at the last change.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from metrics_connect import safe_yaml
from metrics_connect.sandbox.kit.records import poisson
from metrics_connect.sandbox.kit.seeded import draws, split_rounded
from metrics_connect.sandbox.kit.templates import fill
from metrics_connect.sandbox.kit.wp_rest import site_dates

DAY = timedelta(days=1)


def money(value: float) -> str:
    return f"{value:.2f}"


@dataclass
class Refund:
    id: int
    order_id: int
    at: datetime
    amount: float
    reason: str
    full: bool


@dataclass
class Order:
    id: int
    created: datetime
    customer_id: int
    billing: dict[str, str]
    lines: list[dict[str, Any]]
    coupon: dict[str, Any] | None
    discount: float
    shipping: float
    rate: dict[str, Any]
    changes: list[tuple[datetime, str]] = field(default_factory=list)  # (at, status)
    refunds: list[Refund] = field(default_factory=list)
    trashed_at: datetime | None = None

    @property
    def cart_tax(self) -> float:
        return round(sum(line["tax"] for line in self.lines), 2)

    @property
    def shipping_tax(self) -> float:
        return round(self.shipping * float(self.rate["rate"]) / 100, 2)

    @property
    def total(self) -> float:
        items = sum(line["total"] for line in self.lines)
        return round(items + self.cart_tax + self.shipping + self.shipping_tax, 2)

    def status(self, at: datetime) -> str | None:
        """The status at `at` (None: not placed yet); `trash` once trashed."""
        if self.created > at:
            return None
        if self.trashed_at is not None and self.trashed_at <= at:
            return "trash"
        if any(r.full and r.at <= at for r in self.refunds):
            return "refunded"
        index = bisect.bisect_right(self.instants[0], at) - 1
        return self.changes[max(index, 0)][1]

    @functools.cached_property
    def instants(self) -> tuple[list[datetime], list[datetime]]:
        """Its status changes' instants, and every change's (refunds, trash) sorted."""
        every = [w for w, _ in self.changes] + [r.at for r in self.refunds]
        if self.trashed_at is not None:
            every.append(self.trashed_at)
        return [w for w, _ in self.changes], sorted(every)

    def modified(self, at: datetime) -> datetime:
        every = self.instants[1]
        index = bisect.bisect_right(every, at) - 1
        return max(self.created, every[index]) if index >= 0 else self.created

    def first(self, statuses: tuple[str, ...], at: datetime) -> datetime | None:
        return next((w for w, s in self.changes if s in statuses and w <= at), None)


class StoreData:
    """The store's catalogue, customers and orders, generated once from data.yaml."""

    def __init__(self, spec_path: Path | None = None) -> None:
        path = spec_path or Path(__file__).with_name("data.yaml")
        self.spec: dict[str, Any] = safe_yaml.load(path.read_text(encoding="utf-8"))
        self.site: dict[str, Any] = self.spec["site"]
        self.currency = str(self.spec["system_status"]["settings"]["currency"])
        self.zone = ZoneInfo(self.site["timezone_string"])
        self.start = datetime.fromisoformat(self.spec["history_start"])
        self.end = datetime.fromisoformat(self.spec["history_end"])
        self.products = {p["id"]: p for p in self.spec["products"]}
        self.categories = {c["id"]: c for c in self.spec["categories"]}
        self.customers: list[dict[str, Any]] = []
        self.orders: list[Order] = []
        self.refunds: list[Refund] = []
        self._generate()
        self.created_times = [o.created for o in self.orders]
        self.order_times: dict[int, list[datetime]] = {}
        for order in self.orders:
            self.order_times.setdefault(order.customer_id, []).append(order.created)

    # --- generation ---

    def _generate(self) -> None:
        seed, spec = self.spec["seed"], self.spec
        line_id = 1
        for n in range((self.end - self.start).days):
            day = self.start + n * DAY
            rng = draws(seed, "customers", n)
            for _ in range(poisson(rng.random(), spec["customers"]["per_day"])):
                self._customer(day + timedelta(seconds=rng.uniform(0, 86400)), rng)
            weekday = 1.0 if day.weekday() < 5 else 0.6
            rng = draws(seed, "orders", n)
            for _ in range(poisson(rng.random(), spec["orders"]["per_day"] * weekday)):
                created = day + timedelta(seconds=rng.uniform(10 * 3600, 26 * 3600))
                line_id = self._order(created, rng, line_id)
        self.orders.sort(key=lambda o: o.created)
        for number, order in enumerate(self.orders):
            order.id = 1000 + number
            for refund in order.refunds:
                refund.order_id = order.id
        self.refunds.sort(key=lambda r: r.at)
        for number, refund in enumerate(self.refunds):
            refund.id = 900_000 + number

    def _customer(self, created: datetime, rng: Any) -> None:
        number = len(self.customers) + 2  # user 1 is the shop manager
        place = _weighted(rng, self.spec["places"])
        names = _filled(self.spec["customers"]["fields"], number)
        customer = {"id": number, "created": created, **names}
        self.customers.append(customer | {"city": place["city"], "state": place["state"]})

    def _order(self, created: datetime, rng: Any, line_id: int) -> int:
        spec = self.spec["orders"]
        known = [c for c in self.customers[-600:] if c["created"] < created]
        if known and rng.random() < self.spec["customers"]["ordering_share"]:
            buyer = rng.choice(known)
        else:
            place = _weighted(rng, self.spec["places"])
            guest = _filled(self.spec["customers"]["guest"], int(rng.random() * 1e6))
            buyer = {"id": 0, **guest, "city": place["city"], "state": place["state"]}
        customer_id, state = buyer["id"], buyer["state"]
        billing = fill(self.spec["billing"], buyer)
        rates = self.spec["tax_rates"]
        rate = next((r for r in rates if r["state"] == state), rates[-1])
        lines: list[dict[str, Any]] = []
        ids = list(self.products)
        for product_id in rng.sample(ids, rng.randint(*spec["lines"])):
            product = self.products[product_id]
            quantity = rng.randint(*spec["quantity"])
            subtotal = round(product["price"] * quantity, 2)
            lines.append(
                {
                    "id": line_id,
                    "product_id": product_id,
                    "quantity": quantity,
                    "price": product["price"],
                    "subtotal": subtotal,
                }
            )
            line_id += 1
        weights = self.spec["product_weights"]
        if rng.random() < 0.5:  # popular products more often
            lines[0]["product_id"] = rng.choices(ids, weights=weights)[0]
            if len({line["product_id"] for line in lines}) < len(lines):
                lines = lines[:1]
            product = self.products[lines[0]["product_id"]]
            lines[0]["price"] = product["price"]
            lines[0]["subtotal"] = round(product["price"] * lines[0]["quantity"], 2)
        subtotal = sum(line["subtotal"] for line in lines)
        coupon = None
        discount = 0.0
        if rng.random() < self.spec["coupon_share"]:
            coupon = rng.choice(self.spec["coupons"])
            amount = float(coupon["amount"])
            if coupon["discount_type"] == "percent":
                discount = round(subtotal * amount / 100, 2)
            else:
                discount = min(amount, subtotal)
        shares = split_rounded(discount, [line["subtotal"] for line in lines])
        for line, share in zip(lines, shares, strict=True):  # the discount over the lines
            line["total"] = round(line["subtotal"] - share, 2)
            line["tax"] = round(line["total"] * float(rate["rate"]) / 100, 2)
        order = Order(
            id=0,
            created=created,
            customer_id=customer_id,
            billing=billing,
            lines=lines,
            coupon=coupon,
            discount=discount,
            shipping=round(rng.uniform(*self.spec["shipping"]), 2),
            rate=rate,
        )
        self._path(order, rng)
        self.orders.append(order)
        return line_id

    def _path(self, order: Order, rng: Any) -> None:
        """An order's statuses: its path's steps, each a delay after the one before."""
        spec = self.spec["orders"]
        paths = spec["paths"]
        path = rng.choices(list(paths), weights=[p["share"] for p in paths.values()])[0]
        at = order.created
        order.changes.append((at, "pending"))
        for status, unit, low, high in paths[path]["steps"]:
            at += timedelta(**{unit: rng.uniform(low, high)})
            order.changes.append((at, status))
        if order.changes[-1][1] in ("cancelled", "failed"):
            if rng.random() < spec["trash_share"]:
                order.trashed_at = order.created + timedelta(days=rng.uniform(*spec["trash_days"]))
            return
        if order.changes[-1][1] != "completed":
            return
        if rng.random() < spec["refund_share"]:
            full = rng.random() < spec["full_refund_share"]
            line = rng.choice(order.lines)
            amount = order.total if full else round(line["total"] + line["tax"], 2)
            refund = Refund(
                id=0,
                order_id=0,
                at=at + timedelta(days=rng.uniform(*spec["refund_days"])),
                amount=amount,
                reason=rng.choice(spec["refund_reasons"]),
                full=full,
            )
            order.refunds.append(refund)
            self.refunds.append(refund)

    # --- what the store holds at an instant ---

    def placed(self, at: datetime) -> list[Order]:
        index = bisect.bisect_right(self.created_times, at)
        return self.orders[:index]

    def customer_list(self, at: datetime) -> list[dict[str, Any]]:
        return [c for c in self.customers if c["created"] <= at]

    def last_active(self, customer_id: int, at: datetime) -> datetime | None:
        times = self.order_times.get(customer_id, [])
        index = bisect.bisect_right(times, at) - 1
        return times[index] if index >= 0 else None

    def out_of_stock(self, product_id: int, at: datetime) -> tuple[bool, int]:
        """(out of stock, quantity) in the week of `at`: stock moves week by week."""
        spec = self.spec["stock"]
        week = (at - self.start).days // 7
        rng = draws(self.spec["seed"], "stock", product_id, week)
        out = rng.random() < spec["out_share"]
        return out, 0 if out else rng.randint(*spec["quantity"])

    def dates(self, name: str, at: datetime | None) -> dict[str, str | None]:
        return site_dates(name, at, self.zone)


def _filled(templates: dict[str, str], number: int) -> dict[str, str]:
    return {name: template.format(n=number) for name, template in templates.items()}


def _weighted(rng: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(rng.choices(items, weights=[i["share"] for i in items])[0])
