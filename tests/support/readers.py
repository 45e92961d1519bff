"""Independent readers of the landing zone, written from CONTRACT.md, not from the simulator."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

# Copied from ../shared/spec/CONTRACT.md, "Landing zone" -> Columns.
CONTRACT_COLUMNS = {
    "customers": "customer_id first_name last_name gender phone_number email_address date_of_birth education_level "
    "marital_status number_of_children registration_date occupation hobbies annual_income degree_of_loyalty "
    "mailing_street city state country zipcode updated_at",
    "orders": "order_id customer_id order_date order_status order_delivery_date discounted_amount shipping_amount "
    "total_amount payment_method billing_address shipping_address transaction_id updated_at",
    "order_line_items": "order_li_id order_id product_id qty unit_price",
    "products": "sku_id product_id product_name product_category product_subcategory brand_id product_colour "
    "product_size list_price sale_price launched_ts",
    "brands": "brand_id brand_name parent_company description brand_type website founded_year headquarters",
    "transactions": "transaction_id order_id amount payment_method transaction_ts",
    "web_events": "activity_uuid session_id anonymous_id entity_id visit_start_ts activity_ts event_action "
    "product_sku quantity order_value transaction_id traffic_channel traffic_source occurrence",
}
CONTRACT_COLUMNS = {k: v.split() for k, v in CONTRACT_COLUMNS.items()}
GLOBS = {
    "customers": "crm/customers/customers_*.csv",
    "products": "catalog/products/products_*.json",
    "brands": "catalog/brands/brands_*.xml",
    "orders": "shop/orders/orders_*.jsonl",
    "order_line_items": "shop/order_line_items/order_line_items_*.jsonl",
    "transactions": "payments/transactions/transactions_*.csv",
    "web_events": "web/events/date=*/hour=*/events.jsonl",
}


def files(root: Path, source: str) -> list[Path]:
    return sorted(root.glob(GLOBS[source]))


def read_records(path: Path, source: str) -> list[tuple[int, dict | None]]:
    """(line or index, record) pairs; record is None for a line that is not valid JSON."""
    if path.suffix == ".csv":
        with open(path, newline="") as f:
            return [(i + 2, row) for i, row in enumerate(csv.DictReader(f))]
    if path.suffix == ".json":
        return list(enumerate(json.loads(path.read_text())))
    if path.suffix == ".xml":
        return [(i, {c.tag: c.text or "" for c in b}) for i, b in enumerate(ET.parse(path).getroot())]
    out = []
    for i, line in enumerate(path.read_text().splitlines()):
        try:
            out.append((i + 1, json.loads(line)))
        except json.JSONDecodeError:
            out.append((i + 1, None))
    return out


def all_records(root: Path, source: str) -> list[dict]:
    return [r for p in files(root, source) for _, r in read_records(p, source) if r is not None]
