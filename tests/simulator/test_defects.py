"""The defect manifest matches the files: every planted defect is there, and nothing else is.

Each detector below scans the files independently (no simulator code), so on
clean data it must find nothing and on defective data exactly the manifest.
"""

import datetime as dt
import json
import os
from collections import defaultdict

import pytest

from simulator.defects import KINDS
from tests.simulator.conftest import make
from tests.support.readers import files, read_records

# Accepted values as documented in docs/landing-zone.md.
ACCEPTED = {
    ("customers", "gender"): {"Female", "Male", "Non-binary"},
    ("orders", "order_status"): {"Processing", "Shipped", "Delivered", "Canceled", "Returned"},
    ("orders", "payment_method"): {"Credit Card", "Debit Card", "PayPal", "Apple Pay", "Gift Card", "Bank Transfer"},
    ("transactions", "payment_method"): {
        "Credit Card",
        "Debit Card",
        "PayPal",
        "Apple Pay",
        "Gift Card",
        "Bank Transfer",
    },
    ("web_events", "event_action"): {
        "page_view",
        "product_view",
        "add_to_favorite",
        "add_to_cart",
        "remove_from_cart",
        "order_placed",
    },
    ("brands", "brand_type"): {"Private Label", "National", "Premium", "Luxury", "Direct-to-Consumer"},
}
ISSUE_KINDS = {"missing_email", "missing_phone", "impossible_birth_date", "duplicate_product_id", "negative_amount",
               "mismatched_amount", "unknown_customer", "late_file", "malformed_line", "unknown_enum",
               "missing_description", "mismatched_category", "duplicate_brand_id", "mismatched_description",
               "late_delivery", "late_payment", "missing_visit_start", "page_view_burst", "bounce_spike"}  # fmt: skip
# The category tree, as docs/landing-zone.md lists it.
CATEGORIES = {
    "Apparel": {"Tops", "Bottoms", "Outerwear", "Activewear"}, "Footwear": {"Sneakers", "Boots", "Sandals"},
    "Electronics": {"Phones", "Audio", "Computers", "Accessories"},
    "Home & Kitchen": {"Cookware", "Furniture", "Decor", "Bedding"}, "Beauty": {"Skincare", "Makeup", "Fragrance"},
    "Sports & Outdoors": {"Fitness", "Camping", "Cycling"}, "Grocery": {"Snacks", "Beverages", "Pantry"},
    "Toys & Games": {"Board Games", "Puzzles", "Action Figures"},
    "Books": {"Fiction", "Non-fiction", "Children's Books"},
    "Baby & Maternity": {"Diapers", "Strollers", "Maternity Wear", "Nursery"},
}  # fmt: skip


def _time(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")


def rows(root, source):
    for path in files(root, source):
        rel = str(path.relative_to(root))
        for where, record in read_records(path, source):
            yield rel, where, record


def detect(cfg) -> set[tuple]:
    """Every defect visible in the files, as (kind, file, line-or-index)."""
    root, found = cfg.out, set()
    customers = set()
    for rel, line, r in rows(root, "customers"):
        customers.add(r["customer_id"])
        if not r["email_address"]:
            found.add(("missing_email", rel, line))
        if not r["phone_number"]:
            found.add(("missing_phone", rel, line))
        born = dt.date.fromisoformat(r["date_of_birth"])
        if born > cfg.end or born.year < 1900:
            found.add(("impossible_birth_date", rel, line))
    for (source, column), accepted in ACCEPTED.items():
        for rel, line, r in rows(root, source):
            if r is not None and r[column] not in accepted:
                found.add(("unknown_enum", rel, line))
    for source in ("orders", "order_line_items", "web_events"):
        found |= {("malformed_line", rel, line) for rel, line, r in rows(root, source) if r is None}
    found |= _catalog(root)
    totals, ordered_at = {}, {}
    for rel, line, r in rows(root, "orders"):
        if r is not None:
            totals[r["transaction_id"]] = r["total_amount"]
            ordered_at[r["transaction_id"]] = _time(r["order_date"])
            if r["customer_id"] not in customers:
                found.add(("unknown_customer", rel, line))
            delivered = r["order_delivery_date"] and _time(r["order_delivery_date"])
            if delivered and not ordered_at[r["transaction_id"]] <= delivered <= ordered_at[
                r["transaction_id"]
            ] + dt.timedelta(days=14):
                found.add(("late_delivery", rel, line))
    for rel, line, r in rows(root, "transactions"):
        amount = float(r["amount"])
        if r["transaction_id"] in totals:  # a payment (refunds have their own ids)
            if amount < 0:
                found.add(("negative_amount", rel, line))
            elif abs(amount - totals[r["transaction_id"]]) > 0.005:
                found.add(("mismatched_amount", rel, line))
            elif (
                not ordered_at[r["transaction_id"]]
                <= _time(r["transaction_ts"])
                <= ordered_at[r["transaction_id"]] + dt.timedelta(days=1)
            ):
                found.add(("late_payment", rel, line))
    found |= _web(root)
    for path in files(root, "web_events"):
        date, hour = path.parent.parent.name[5:], int(path.parent.name[5:])
        closes = dt.datetime.fromisoformat(date).replace(tzinfo=dt.UTC) + dt.timedelta(hours=hour + 1)
        if os.stat(path).st_mtime > closes.timestamp():
            found.add(("late_file", str(path.relative_to(root)), None))
    return found


def _catalog(root) -> set[tuple]:
    found = set()
    for path in files(root, "products"):
        seen, rel = set(), str(path.relative_to(root))
        for index, r in read_records(path, "products"):
            if r["product_id"] in seen:
                found.add(("duplicate_product_id", rel, index))
            seen.add(r["product_id"])
            if not r["product_name"]:
                found.add(("missing_description", rel, index))
            if r["product_subcategory"] not in CATEGORIES.get(r["product_category"], ()):
                found.add(("mismatched_category", rel, index))
    for path in files(root, "brands"):
        seen, rel = set(), str(path.relative_to(root))
        for index, r in read_records(path, "brands"):
            if r["brand_id"] in seen:
                found.add(("duplicate_brand_id", rel, index))
            seen.add(r["brand_id"])
            known = r["brand_type"] in ACCEPTED[("brands", "brand_type")]  # an unknown type is its own defect
            if known and not r["description"].startswith(f"{r['brand_name']} is a {r['brand_type'].lower()} brand"):
                found.add(("mismatched_description", rel, index))
    return found


def _web(root) -> set[tuple]:
    """Missing visit starts; page-view bursts (ten or more copies of one line but for the event id; the line
    copied is the defect); and a last hour whose sessions are nearly all one-event sessions."""
    found, paths = set(), files(root, "web_events")
    for path in paths:
        rel, copies = str(path.relative_to(root)), defaultdict(list)
        for line, r in read_records(path, "web_events"):
            if r is None:
                continue
            if r["visit_start_ts"] is None:
                found.add(("missing_visit_start", rel, line))
            copies[json.dumps({k: v for k, v in r.items() if k != "activity_uuid"}, sort_keys=True)].append(line)
        found |= {("page_view_burst", rel, lines[0]) for lines in copies.values() if len(lines) >= 10}
    last = [r for _, r in read_records(paths[-1], "web_events") if r] if paths else []
    events = defaultdict(int)
    for r in last:
        events[r["session_id"]] += 1
    everyone = defaultdict(int)
    for path in paths[:-1]:
        for _, r in read_records(path, "web_events"):
            if r:
                everyone[r["session_id"]] += 1
    usual = sum(n == 1 for n in everyone.values()) / max(1, len(everyone))
    if len(events) >= 20 and sum(n == 1 for n in events.values()) / len(events) > usual + 0.2:
        found.add(("bounce_spike", str(paths[-1].relative_to(root)), None))
    return found


def manifest(cfg) -> dict:
    return json.loads((cfg.out / "_manifest" / "defects.json").read_text())


def test_clean_data_has_no_defects(clean):
    assert manifest(clean)["defects"] == []
    assert detect(clean) == set()


def test_every_defect_kind_is_planted(defective):
    counts = manifest(defective)["counts"]
    assert all(counts[kind] > 0 for kind in ISSUE_KINDS), counts


def test_manifest_matches_the_files_exactly(defective):
    planted = {(d["kind"], d["file"], d.get("line", d.get("index"))) for d in manifest(defective)["defects"]}
    assert detect(defective) == planted


def test_manifest_names_the_record_and_column(defective):
    by_file = defaultdict(dict)
    for d in manifest(defective)["defects"]:
        if d["kind"] in ("late_file", "malformed_line", "bounce_spike"):
            continue
        path = defective.out / d["file"]
        if d["file"] not in by_file:
            by_file[d["file"]] = dict(read_records(path, d["source"]))
        record = by_file[d["file"]][d.get("line", d.get("index"))]
        key = {"customers": "customer_id", "orders": "order_id", "transactions": "transaction_id",
               "products": "product_id", "brands": "brand_id", "web_events": "activity_uuid"}[d["source"]]  # fmt: skip
        assert record[key] == d["key"]
        assert d["column"] in record


@pytest.mark.parametrize("rate", [0.005, 0.05])
def test_defect_rate_scales_the_count(tmp_path, rate):
    cfg = make(tmp_path / str(rate), defects=rate, customers=300)
    m = manifest(cfg)
    # each record draws once: each kind of its source with probability `rate` where it applies (a late
    # delivery only to a delivered order, a page-view burst only to a page view), so per record and kind the
    # share is at most `rate`, and above a third of it
    sources = ("customers", "orders", "transactions", "web_events", "products")
    planted = sum(1 for d in m["defects"] if d["source"] in sources and d["kind"] not in ("late_file", "bounce_spike")
                  and d["kind"] != "unknown_customer")  # fmt: skip
    chances = sum(len(read_records(p, s)) * len(KINDS[s]) for s in sources for p in files(cfg.out, s))
    assert 0.3 * rate < planted / chances < 1.2 * rate
