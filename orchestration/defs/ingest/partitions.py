"""Each landing source's cadence as a Dagster partitioning, and the schedule that goes with it."""

import datetime as dt

import dagster as dg

from c360_core.settings import settings


def _start() -> dt.date:
    return settings().partitions_start


def _partitions() -> dict[str, dg.TimeWindowPartitionsDefinition]:
    start = _start()
    daily = dg.DailyPartitionsDefinition(start_date=start.isoformat())
    # weeks run Sunday to Saturday: begin on the Sunday on or before the start, so it has a partition
    sunday = start - dt.timedelta(days=(start.weekday() + 1) % 7)
    return {
        "web_events": dg.HourlyPartitionsDefinition(start_date=f"{start.isoformat()}-00:00"),
        "customers": daily,
        "transactions": daily,
        "products": dg.WeeklyPartitionsDefinition(start_date=sunday.isoformat()),
        "brands": dg.MonthlyPartitionsDefinition(start_date=start.replace(day=1).isoformat()),
    }


PARTITIONS = _partitions()
# orders and line items are not partitioned: the orders sensor loads them as they change.

# Parents before children: a catch-up loads the sources in this order, so each contract's
# reference checks (an order's customer, a payment's order) find the parent already loaded.
LOAD_ORDER = ["brands", "products", "customers", "orders", "order_line_items", "transactions", "web_events"]

# cadence name -> (sources, cron). Each schedule loads the period that just closed.
CADENCES = {
    "hourly": (["web_events"], "0 * * * *"),
    "daily": (["customers", "transactions"], "0 0 * * *"),
    "weekly": (["products"], "0 0 * * 0"),
    "monthly": (["brands"], "0 0 1 * *"),
}
