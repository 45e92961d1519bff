"""Figures computed straight from the landing files, independently of the loaders and dbt."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

from tests.simulator.readers import all_records

CENT = Decimal("0.01")


def _ts(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")


def latest(landing: Path, source: str, key: str) -> dict[str, dict]:
    """The newest version (by updated_at) of every record of a versioned source, by its key."""
    found: dict[str, dict] = {}
    for r in all_records(landing, source):
        if r[key] not in found or r["updated_at"] > found[r[key]]["updated_at"]:
            found[r[key]] = r
    return found


def latest_orders(landing: Path) -> dict[str, dict]:
    return latest(landing, "orders", "order_id")


def money(value: float | str) -> Decimal:
    """An amount as the landing file writes it, exactly (at most two decimals, CONTRACT.md)."""
    return Decimal(str(value)).quantize(CENT)


def customer_orders(landing: Path, as_of: dt.date) -> dict[str, dict]:
    """Counted orders per customer; totals summed exactly, as decimals."""
    out: dict[str, dict] = {}
    for o in latest_orders(landing).values():
        if o["order_status"] in ("Canceled", "Returned"):
            continue
        empty = {"orders_count": 0, "total_order_value": Decimal(0), "last_order_at": None}
        c = out.setdefault(o["customer_id"], empty)
        c["orders_count"] += 1
        c["total_order_value"] += money(o["total_amount"])
        at = _ts(o["order_date"])
        c["last_order_at"] = max(c["last_order_at"] or at, at)
    for c in out.values():
        c["recency_days"] = (as_of - c["last_order_at"].date()).days
    return out


def cume_dist_scores(values: dict[str, float], descending: bool) -> dict[str, int]:
    """ceil(5 * cume_dist()): the share of customers ordered at or before each value, ties together."""
    n = len(values)
    return {
        k: math.ceil(5 * sum(1 for w in values.values() if (w >= v if descending else w <= v)) / n)
        for k, v in values.items()
    }


def rfm(landing: Path, as_of: dt.date) -> dict[str, tuple[int, int, int]]:
    orders = customer_orders(landing, as_of)
    r = cume_dist_scores({k: v["recency_days"] for k, v in orders.items()}, descending=True)
    f = cume_dist_scores({k: v["orders_count"] for k, v in orders.items()}, descending=False)
    m = cume_dist_scores({k: v["total_order_value"] for k, v in orders.items()}, descending=False)
    return {k: (r[k], f[k], m[k]) for k in orders}


def event_counts(landing: Path) -> dict[str, Counter]:
    """Events per customer; a session belongs to the customer who logged in during it."""
    events = all_records(landing, "web_events")
    owner = {e["session_id"]: e["entity_id"] for e in events if e["entity_id"]}
    counts: dict[str, Counter] = defaultdict(Counter)
    for e in events:
        if e["session_id"] in owner:
            counts[owner[e["session_id"]]][e["event_action"]] += 1
    return counts
