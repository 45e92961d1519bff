"""`c360 simulate-shop`: the shop as a live system that places and updates orders continuously.

Customers and products come from the landing zone (the CRM's and the catalogue's files). Each
change is either a new order (Processing, with 1-3 lines and its payment) or the next status of
an open order (Processing -> Shipped -> Delivered, or Processing -> Canceled). Changes go to the
Postgres `shop` schema (Postgres mode) or to micro-batch files in landing/shop/ (embedded mode).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from landing import SHOP_DDL, SOURCES, decompress, files
from simulator import reference as ref


@dataclass
class Change:
    order: dict
    lines: list[dict] = field(default_factory=list)
    payment: dict | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _latest_customers(landing: Path) -> dict[str, str]:
    """customer_id -> address, from the CRM files (a later file's record wins)."""
    out = {}
    for path in files(landing, "customers"):
        text = decompress(path.name, path.read_bytes()).decode()
        for row in csv.DictReader(io.StringIO(text, newline="")):
            if row.get("customer_id"):
                out[row["customer_id"]] = f"{row['mailing_street']}, {row['city']}, {row['state']} {row['zipcode']}"
    return out


def _latest_products(landing: Path) -> dict[str, float]:
    found = files(landing, "products")
    if not found:
        return {}
    latest = json.loads(decompress(found[-1].name, found[-1].read_bytes()))
    return {p["product_id"]: float(p["sale_price"]) for p in latest if p.get("sale_price")}


class LiveShop:
    def __init__(self, landing: Path, seed: int | None = None, update_share: float = 0.5) -> None:
        self.customers = _latest_customers(landing)
        self.products = _latest_products(landing)
        if not self.customers or not self.products:
            raise ValueError(f"{landing} has no CRM customers or catalogue products: run `c360 generate` first")
        self.rng = random.Random(seed)
        self.update_share = update_share
        self.tag = uuid.uuid4().hex[:6].upper()  # ids never collide with generated ones or another run's
        self.seq = 0
        self.open: dict[str, dict] = {}
        self.history: dict[str, dict] = {}  # every order's current state
        self.created = self.updated = 0

    def _id(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}L{self.tag}{self.seq:06d}"

    def next_change(self) -> Change:
        if self.open and self.rng.random() < self.update_share:
            return self._advance(self.rng.choice(sorted(self.open)))
        return self._place()

    def _place(self) -> Change:
        now, customer = _now(), self.rng.choice(sorted(self.customers))
        order_id, tx_id = self._id("O"), self._id("T")
        lines = []
        for product in self.rng.sample(sorted(self.products), self.rng.randint(1, 3)):
            qty = self.rng.randint(1, 2)
            lines.append({"order_li_id": self._id("L"), "order_id": order_id, "product_id": product, "qty": qty,
                          "unit_price": self.products[product], "updated_at": now})  # fmt: skip
        subtotal = round(sum(li["qty"] * li["unit_price"] for li in lines), 2)
        discount = round(subtotal * 0.1, 2) if self.rng.random() < 0.2 else 0.0
        shipping = 0.0 if subtotal >= 50 else 4.99
        method = self.rng.choices(ref.PAYMENT_METHODS, weights=ref.PAYMENT_WEIGHT)[0]
        order = {
            "order_id": order_id, "customer_id": customer, "order_date": now, "order_status": "Processing",
            "order_delivery_date": None, "discounted_amount": discount, "shipping_amount": shipping,
            "total_amount": round(subtotal - discount + shipping, 2), "payment_method": method,
            "billing_address": self.customers[customer], "shipping_address": self.customers[customer],
            "transaction_id": tx_id, "updated_at": now,
        }  # fmt: skip
        payment = {"transaction_id": tx_id, "order_id": order_id, "amount": order["total_amount"],
                   "payment_method": method, "transaction_ts": now, "updated_at": now}  # fmt: skip
        self.open[order_id] = self.history[order_id] = order
        self.created += 1
        return Change(dict(order), lines, payment)

    def _advance(self, order_id: str) -> Change:
        order, now = self.open[order_id], _now()
        status = order["order_status"]
        if status == "Processing":
            order["order_status"] = "Canceled" if self.rng.random() < 0.15 else "Shipped"
        else:
            order["order_status"], order["order_delivery_date"] = "Delivered", now
        order["updated_at"] = now
        if order["order_status"] in ("Canceled", "Delivered"):
            del self.open[order_id]
        self.updated += 1
        return Change(dict(order))


class PostgresShop:
    """Writes changes to the shop database, one transaction per change."""

    def __init__(self, dsn: str) -> None:
        self.con = psycopg.connect(dsn, autocommit=True)
        self.con.execute(SHOP_DDL)

    def write(self, change: Change) -> None:
        o = change.order
        cols = list(o)
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "order_id")
        with self.con.transaction():
            self.con.execute(
                f"insert into shop.orders ({', '.join(cols)}) values ({', '.join(['%s'] * len(cols))})"
                f" on conflict (order_id) do update set {updates}",
                list(o.values()),
            )
            for li in change.lines:
                self.con.execute(
                    f"insert into shop.order_line_items ({', '.join(li)}) values ({', '.join(['%s'] * len(li))})",
                    list(li.values()),
                )
            if change.payment:
                p = change.payment
                self.con.execute(
                    f"insert into shop.transactions ({', '.join(p)}) values ({', '.join(['%s'] * len(p))})",
                    list(p.values()),
                )

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.con.close()


class LandingShop:
    """Buffers changes and writes them as micro-batch files under landing/shop/ (embedded mode)."""

    def __init__(self, landing: Path, batch_seconds: float = 5.0) -> None:
        self.landing, self.batch_seconds = landing, batch_seconds
        self.orders: list[dict] = []
        self.lines: list[dict] = []
        self.last_flush, self.seq = time.monotonic(), 0

    def write(self, change: Change) -> None:
        self.orders.append(change.order)
        self.lines += change.lines
        if time.monotonic() - self.last_flush >= self.batch_seconds:
            self.flush()

    def _file(self, source: str, rows: list[dict], stamp: str) -> None:
        columns = SOURCES[source].columns
        text = "".join(
            json.dumps({c: (r[c].isoformat() + "Z" if isinstance(r[c], dt.datetime) else r[c]) for c in columns}) + "\n"
            for r in rows
        )
        path = self.landing / SOURCES[source].pattern.replace("*", stamp)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}")  # dot files are deliveries in progress
        tmp.write_text(text)
        os.replace(tmp, path)

    def flush(self) -> None:
        self.seq += 1
        stamp = f"{_now():%Y-%m-%dT%H-%M-%S}-live{self.seq:04d}"
        if self.lines:  # lines first: an order's file never lands before its lines' file
            self._file("order_line_items", self.lines, stamp)
        if self.orders:
            self._file("orders", self.orders, stamp)
        self.orders, self.lines, self.last_flush = [], [], time.monotonic()

    def close(self) -> None:
        self.flush()


def run(shop: LiveShop, sink, rate: float, duration: float | None, stop: threading.Event | None = None) -> None:
    """Make `rate` changes per second until `duration` seconds pass or `stop` is set."""
    stop = stop or threading.Event()
    start, n = time.monotonic(), 0
    try:
        while not stop.is_set() and (duration is None or time.monotonic() - start < duration):
            sink.write(shop.next_change())
            n += 1
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                stop.wait(delay)
    finally:
        sink.close()
