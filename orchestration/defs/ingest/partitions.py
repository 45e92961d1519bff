"""Each landing source's cadence as a Dagster partitioning, and where the partitions begin.

Web events arrive hourly but are partitioned by day: the hourly schedule re-runs the day of the
hour that just closed and loads only its new files. A year is then 365 partitions, not 8,760, and
Dagster's bookkeeping (~10 ms per partition recorded) stops dominating a first load
(docs/decisions.md, "Daily partitions for hourly web events").

Partitions begin at the earliest landing file (or C360_PARTITIONS_START when it is set), so a
landing zone with years of history loads without any setting.
"""

import datetime as dt

import dagster as dg

from c360_core.settings import settings
from landing import SOURCES, earliest_period

DEFAULT_START = dt.date(2025, 1, 1)  # used when it is earlier than every landing file (or none has landed)


def partitions_start() -> dt.date:
    """C360_PARTITIONS_START when set; else the earliest landing file's day, or DEFAULT_START if earlier.

    Never later than DEFAULT_START: a long-lived process (the UI, a test session) keeps every partition
    it knew when a landing zone with a later start appears.
    """
    cfg = settings()
    if cfg.partitions_start is not None:
        return cfg.partitions_start
    found = [p for name in SOURCES if (p := earliest_period(cfg.landing, name)) is not None]
    return min([DEFAULT_START, *(p.date() for p in found)])


def _partitions(start: dt.date) -> dict[str, dg.TimeWindowPartitionsDefinition]:
    daily = dg.DailyPartitionsDefinition(start_date=start.isoformat())
    # weeks run Sunday to Saturday: begin on the Sunday on or before the start, so it has a partition
    sunday = start - dt.timedelta(days=(start.weekday() + 1) % 7)
    return {
        "web_events": daily,
        "customers": daily,
        "transactions": daily,
        "products": dg.WeeklyPartitionsDefinition(start_date=sunday.isoformat()),
        "brands": dg.MonthlyPartitionsDefinition(start_date=start.replace(day=1).isoformat()),
    }


START = partitions_start()
PARTITIONS = _partitions(START)
# orders and line items are not partitioned: the orders sensor loads them as they change.

# Parents before children: `c360 materialize` runs each partitioning's loads at its first source's place
# in this order. The contracts verify after the last load, so their reference checks (an order's
# customer, a payment's order) find every parent loaded whatever the order.
LOAD_ORDER = ["brands", "products", "customers", "orders", "order_line_items", "transactions", "web_events"]

# cadence name -> (sources, cron). Each schedule loads the period that just closed; the hourly one
# re-runs the day of the hour that just closed (new files only).
CADENCES = {
    "hourly": (["web_events"], "0 * * * *"),
    "daily": (["customers", "transactions"], "0 0 * * *"),
    "weekly": (["products"], "0 0 * * 0"),
    "monthly": (["brands"], "0 0 1 * *"),
}
