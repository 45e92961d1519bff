"""Referential integrity and business rules on clean data, checked from the files alone."""

import csv
from collections import defaultdict

import pytest

from tests.support.readers import all_records

TRANSITIONS = {
    ("Processing", "Shipped", "Delivered"),
    ("Processing", "Shipped", "Delivered", "Returned"),
    ("Processing", "Canceled"),
}


@pytest.fixture(scope="module")
def data(clean):
    return {
        s: all_records(clean.out, s)
        for s in ("customers", "products", "orders", "order_line_items", "transactions", "web_events")
    }


def latest_versions(orders):
    latest = {}
    for o in orders:
        if o["order_id"] not in latest or o["updated_at"] > latest[o["order_id"]]["updated_at"]:
            latest[o["order_id"]] = o
    return latest


def test_every_order_customer_and_product_exists(data):
    customers = {c["customer_id"] for c in data["customers"]}
    products = {p["product_id"] for p in data["products"]}
    orders = {o["order_id"] for o in data["orders"]}
    assert orders and all(o["customer_id"] in customers for o in data["orders"])
    assert all(li["product_id"] in products for li in data["order_line_items"])
    assert all(li["order_id"] in orders for li in data["order_line_items"])
    assert orders == {li["order_id"] for li in data["order_line_items"]}, "every order has line items"


def test_every_counted_order_has_a_payment_of_the_same_amount(data):
    payments = {t["transaction_id"]: t for t in data["transactions"]}
    counted = [o for o in latest_versions(data["orders"]).values() if o["order_status"] not in ("Canceled", "Returned")]
    assert len(counted) > 100
    for o in counted:
        tx = payments[o["transaction_id"]]
        assert tx["order_id"] == o["order_id"]
        assert float(tx["amount"]) == pytest.approx(o["total_amount"], abs=0.005)


def test_refunds_belong_to_canceled_or_returned_orders(data):
    latest = latest_versions(data["orders"])
    refunds = [t for t in data["transactions"] if float(t["amount"]) < 0]
    assert refunds
    for t in refunds:
        order = latest[t["order_id"]]
        assert order["order_status"] in ("Canceled", "Returned")
        assert -float(t["amount"]) == pytest.approx(order["total_amount"], abs=0.005)


def test_order_total_is_lines_minus_discount_plus_shipping(data):
    lines = defaultdict(float)
    for li in data["order_line_items"]:
        lines[li["order_id"]] += li["qty"] * li["unit_price"]
    for o in data["orders"]:
        expected = lines[o["order_id"]] - o["discounted_amount"] + o["shipping_amount"]
        assert o["total_amount"] == pytest.approx(expected, abs=0.011), o["order_id"]


def test_status_versions_follow_the_lifecycle(data):
    versions = defaultdict(list)
    for o in data["orders"]:
        versions[o["order_id"]].append(o)
    seen = set()
    for vs in versions.values():
        vs.sort(key=lambda o: o["updated_at"])
        statuses = tuple(v["order_status"] for v in vs)
        assert any(statuses == full[: len(statuses)] for full in TRANSITIONS), statuses
        assert len({v["order_date"] for v in vs}) == 1
        for v in vs:
            if v["order_status"] in ("Delivered", "Returned"):
                assert v["order_delivery_date"] > v["order_date"]
        seen.add(statuses[-1])
    assert {"Delivered", "Canceled", "Returned"} <= seen


def test_web_events_reference_known_customers_products_and_orders(data):
    customers = {c["customer_id"] for c in data["customers"]}
    skus = {p["sku_id"] for p in data["products"]}
    events = data["web_events"]
    assert all(e["entity_id"] in customers for e in events if e["entity_id"])
    assert all(e["product_sku"] in skus for e in events if e["product_sku"])
    anonymous = sum(1 for e in events if e["entity_id"] is None)
    assert 0 < anonymous < len(events)


def test_order_placed_events_match_the_shop_orders(data, clean):
    """Every order but the planted fraud-like ones (a bot or a stolen card skips the storefront's analytics)
    has one order_placed event per line, at its time, value and customer."""
    with open(clean.out / "_manifest" / "anomalies.csv", newline="") as f:
        planted = {row["order_id"] for row in csv.DictReader(f)}
    placed = defaultdict(list)
    for e in data["web_events"]:
        if e["event_action"] == "order_placed":
            placed[e["transaction_id"]].append(e)
    items = defaultdict(int)
    for li in data["order_line_items"]:
        items[li["order_id"]] += 1
    for o in latest_versions(data["orders"]).values():
        events = placed[o["transaction_id"]]
        if o["order_id"] in planted:
            assert events == [], o["order_id"]
            continue
        assert len(events) == items[o["order_id"]], o["order_id"]
        assert all(e["order_value"] == o["total_amount"] and e["activity_ts"] == o["order_date"] for e in events)
        assert all(e["entity_id"] == o["customer_id"] for e in events)
