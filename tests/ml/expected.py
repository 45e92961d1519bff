"""ML figures computed straight from the landing files, independently of the loaders, dbt and ml/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.simulator.readers import all_records
from tests.warehouse.expected import _ts

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
