"""The defect manifest matches the files: every planted defect is there, and nothing else is.

Each detector below scans the files independently (no simulator code), so on
clean data it must find nothing and on defective data exactly the manifest.
"""

import datetime as dt
import json
import os
from collections import defaultdict

import pytest

from tests.simulator.conftest import make
from tests.simulator.readers import files, read_records

# Accepted values as documented in docs/landing-zone.md.
ACCEPTED = {
    ("customers", "gender"): {"Female", "Male", "Non-binary"},
    ("orders", "order_status"): {"Processing", "Shipped", "Delivered", "Canceled", "Returned"},
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
               "mismatched_amount", "unknown_customer", "late_file", "malformed_line", "unknown_enum"}  # fmt: skip


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
    for path in files(root, "products"):
        seen = set()
        for index, r in read_records(path, "products"):
            if r["product_id"] in seen:
                found.add(("duplicate_product_id", str(path.relative_to(root)), index))
            seen.add(r["product_id"])
    totals = {}
    for rel, line, r in rows(root, "orders"):
        if r is not None:
            totals[r["transaction_id"]] = r["total_amount"]
            if r["customer_id"] not in customers:
                found.add(("unknown_customer", rel, line))
    for rel, line, r in rows(root, "transactions"):
        amount = float(r["amount"])
        if r["transaction_id"] in totals:  # a payment (refunds have their own ids)
            if amount < 0:
                found.add(("negative_amount", rel, line))
            elif abs(amount - totals[r["transaction_id"]]) > 0.005:
                found.add(("mismatched_amount", rel, line))
    for path in files(root, "web_events"):
        date, hour = path.parent.parent.name[5:], int(path.parent.name[5:])
        closes = dt.datetime.fromisoformat(date).replace(tzinfo=dt.UTC) + dt.timedelta(hours=hour + 1)
        if os.stat(path).st_mtime > closes.timestamp():
            found.add(("late_file", str(path.relative_to(root)), None))
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
        if d["kind"] in ("late_file", "malformed_line"):
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
    record_kinds = [d for d in m["defects"] if d["kind"] != "late_file"]
    records = sum(
        len(read_records(p, s))
        for s in ("customers", "orders", "transactions", "web_events")
        for p in files(cfg.out, s)
    )
    assert 0.3 * rate < len(record_kinds) / records < 3 * rate
