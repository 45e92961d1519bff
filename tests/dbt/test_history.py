"""History (SCD type 2): customers and products keep every version, and enriched orders use the
address, price and brand that were valid when the order was placed. Checked against the landing
files by hand, on both targets."""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import itertools
import os
from collections import defaultdict

import pytest

from tests.support.expected import latest_orders, money
from tests.support.readers import files, read_records
from tests.support.warehouse import (
    landing_of,
    materialize_all,
    query,
)


def _ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.removesuffix("Z"))


def crm_versions(landing) -> dict[str, list[tuple[dt.datetime, str]]]:
    """customer -> [(updated_at, city)] in time order, one per distinct updated_at (later file wins)."""
    versions: dict[str, dict] = defaultdict(dict)
    for path in files(landing, "customers"):
        for _, r in read_records(path, "customers"):
            versions[r["customer_id"]][_ts(r["updated_at"])] = r["city"]
    return {c: sorted(v.items()) for c, v in versions.items()}


def valid_at(versions: list[tuple[dt.datetime, str]], at: dt.datetime) -> str:
    """The value of the last version at or before `at` (the first one before any)."""
    i = bisect.bisect_right([t for t, _ in versions], at) - 1
    return versions[max(i, 0)][1]


def _move_a_customer(landing) -> str:
    """Plant a move: a customer with orders on both sides of a day moves city that day (a new CRM record)."""
    by_customer = defaultdict(list)
    for o in latest_orders(landing).values():
        by_customer[o["customer_id"]].append(_ts(o["order_date"]))
    crm = crm_versions(landing)
    customer, placed = max(((c, sorted(t)) for c, t in by_customer.items() if c in crm), key=lambda x: len(x[1]))
    move = placed[0] + (placed[-1] - placed[0]) / 2
    path = landing / "crm" / "customers" / f"customers_{move.date().isoformat()}.csv"
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    old = next(r for _, r in read_records(files(landing, "customers")[0], "customers") if r)  # any record shape
    for p in files(landing, "customers"):
        for _, r in read_records(p, "customers"):
            if r["customer_id"] == customer and _ts(r["updated_at"]) <= move:
                old = r
    new = {
        **old,
        "city": "Moveton" if old["city"] != "Moveton" else "Elsewhere",
        "updated_at": f"{move:%Y-%m-%dT%H:%M:%SZ}",
    }
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows([*rows, {k: new[k] for k in header}])
    return customer


@pytest.fixture
def moved(fresh) -> tuple[dict, str]:
    """A warehouse built from a landing zone in which one customer moves between two orders."""
    customer = _move_a_customer(fresh.landing)
    assert materialize_all()
    # the environment of this warehouse, as the shared query helpers take it
    return {k: v for k, v in os.environ.items() if k.startswith("C360_")}, customer


def test_a_customer_who_moves_has_two_versions_and_orders_use_the_address_of_their_time(moved):
    built, mover = moved
    landing = landing_of(built)
    crm = crm_versions(landing)
    orders = latest_orders(landing)
    movers = {c for c, v in crm.items() if len({city for _, city in v}) > 1}
    assert mover in movers
    rows = query(built, "select customer_id, city, valid_from, valid_to, is_current from marts.customers_history")
    history = defaultdict(list)
    for customer, city, valid_from, valid_to, is_current in rows:
        history[customer].append((valid_from, valid_to, city, is_current))
    assert len(rows) == sum(len(v) for v in crm.values())  # one row per version
    for customer in movers:
        spans = sorted(history[customer])
        assert len(spans) == len(crm[customer]) >= 2
        assert [s[3] for s in spans] == [False] * (len(spans) - 1) + [True]
        assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # contiguous, no gaps
    # orders placed before and after a move
    straddling = set()
    for o in orders.values():
        c = o["customer_id"]
        if c in movers:
            cities = {valid_at(crm[c], _ts(o["order_date"])) for o in orders.values() if o["customer_id"] == c}
            if len(cities) > 1:
                straddling.add(c)
    assert straddling, "the test data should hold a customer who ordered before and after moving"
    lines = query(built, "select order_id, customer_id, customer_city from marts.orders_enriched")
    checked = 0
    for order_id, customer, city in lines:
        if customer in crm:
            assert city == valid_at(crm[customer], _ts(orders[order_id]["order_date"])), (order_id, customer)
            checked += customer in straddling
    assert checked >= 2


def test_enriched_orders_use_the_price_of_the_snapshot_valid_at_order_time(built):
    landing = landing_of(built)
    snapshots = []  # (snapshot date, {product_id: sale_price})
    for path in files(landing, "products"):
        day = dt.datetime.fromisoformat(path.stem.split("_")[-1])
        prices = {}
        for _, r in read_records(path, "products"):
            prices.setdefault(r["product_id"], money(r["sale_price"]))
        snapshots.append((day, prices))
    orders = latest_orders(landing)
    lines = query(built, "select order_id, product_id, product_sale_price from marts.orders_enriched")
    changed = 0
    for order_id, product_id, price in lines:
        at = _ts(orders[order_id]["order_date"])
        valid = [p for day, p in snapshots if day <= at and product_id in p] or [snapshots[0][1]]
        want = valid[-1].get(product_id)
        assert price == want, (order_id, product_id)  # exact: both are decimals
        changed += want != snapshots[-1][1].get(product_id)
    assert changed > 0  # some orders were placed at a price that has changed since
