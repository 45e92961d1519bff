"""ML figures computed straight from the landing files, independently of the loaders, dbt and ml/."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from tests.support.expected import _ts, money, web_events
from tests.support.readers import all_records

HORIZON = 90  # CONTRACT.md's churn window


def cutoffs(landing: Path, as_of: dt.date) -> tuple[dict[str, dt.date], int]:
    """The score, holdout and train cutoffs, and the lookback: the train cutoff's history in days."""
    dates = {"score": as_of, "holdout": as_of - dt.timedelta(HORIZON), "train": as_of - dt.timedelta(2 * HORIZON)}
    first = min(_ts(o["order_date"]).date() for o in all_records(landing, "orders"))
    return dates, min(365, max(0, (dates["train"] - first).days + 1))


def buyers(landing: Path, cutoff: dt.date, lookback: int) -> set[str]:
    """Customers with a counted order in the lookback, judged by each order's last version before the cutoff."""
    end = dt.datetime.combine(cutoff + dt.timedelta(1), dt.time())
    start = end - dt.timedelta(lookback)
    known: dict[str, dict] = {}
    for o in all_records(landing, "orders"):
        visible = _ts(o["updated_at"]) < end and start <= _ts(o["order_date"]) < end
        if visible and (o["order_id"] not in known or o["updated_at"] > known[o["order_id"]]["updated_at"]):
            known[o["order_id"]] = o
    return {o["customer_id"] for o in known.values() if o["order_status"] not in ("Canceled", "Returned")}


def future(landing: Path, cutoff: dt.date) -> dict[str, tuple[int, float]]:
    """(counted orders, their revenue) per customer in the horizon after the cutoff, by current status."""
    begin = dt.datetime.combine(cutoff + dt.timedelta(1), dt.time())
    end = begin + dt.timedelta(HORIZON)
    latest: dict[str, dict] = {}
    for o in all_records(landing, "orders"):
        if o["order_id"] not in latest or o["updated_at"] > latest[o["order_id"]]["updated_at"]:
            latest[o["order_id"]] = o
    out: dict[str, tuple[int, float]] = {}
    for o in latest.values():
        if o["order_status"] not in ("Canceled", "Returned") and begin <= _ts(o["order_date"]) < end:
            count, revenue = out.get(o["customer_id"], (0, 0.0))
            out[o["customer_id"]] = (count + 1, revenue + o["total_amount"])
    return out


def features_at(landing: Path, cutoff: dt.date, lookback: int) -> dict[str, dict]:
    """Recency, frequency and monetary value, and web sessions, per customer at a cutoff, as knowable at the
    end of the cutoff's day (docs/ml.md): orders placed in the lookback as their last version before the cutoff
    showed them (counted ones only); sessions with events on the lookback's days, each the customer's who logged
    in during it, or else the one customer its browser logged in as on those days."""
    end = dt.datetime.combine(cutoff + dt.timedelta(1), dt.time())
    first_day = (end - dt.timedelta(lookback)).date()
    known: dict[str, dict] = {}
    for o in all_records(landing, "orders"):
        visible = _ts(o["updated_at"]) < end and end - dt.timedelta(lookback) <= _ts(o["order_date"]) < end
        if visible and (o["order_id"] not in known or o["updated_at"] > known[o["order_id"]]["updated_at"]):
            known[o["order_id"]] = o
    out: dict[str, dict] = defaultdict(dict)
    for o in known.values():
        if o["order_status"] in ("Canceled", "Returned"):
            continue
        f = out[o["customer_id"]]
        days_before = (cutoff - _ts(o["order_date"]).date()).days
        f["frequency_orders"] = f.get("frequency_orders", 0) + 1
        f["monetary_value"] = f.get("monetary_value", Decimal(0)) + money(o["total_amount"])
        f["recency_days"] = min(f.get("recency_days", days_before), days_before)
        f["first_order_days_ago"] = max(f.get("first_order_days_ago", days_before), days_before)
    sessions: dict[str, dict] = {}
    browser_customers: dict[str, set] = defaultdict(set)
    for e in web_events(landing):
        day = _ts(e["activity_ts"]).date()
        if not first_day <= day <= cutoff:
            continue
        s = sessions.setdefault(e["session_id"], {"customers": set(), "anonymous": set()})
        if e["entity_id"]:
            s["customers"].add(e["entity_id"])
            if e["anonymous_id"]:
                browser_customers[e["anonymous_id"]].add(e["entity_id"])
        if e["anonymous_id"]:
            s["anonymous"].add(e["anonymous_id"])
    for s in sessions.values():
        browser = browser_customers.get(min(s["anonymous"])) if s["anonymous"] else None
        owner = (
            max(s["customers"]) if s["customers"] else (next(iter(browser)) if browser and len(browser) == 1 else None)
        )
        if owner is not None:
            out[owner]["sessions_count"] = out[owner].get("sessions_count", 0) + 1
    return dict(out)
