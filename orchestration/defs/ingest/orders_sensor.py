"""The orders sensor: near-real-time orders from the shop.

On Postgres it probes the shop database's newest `updated_at` (an index lookup, no scan); in
embedded mode it watches `landing/shop/` for new micro-batch files. Either way, a change starts
one run of the orders job: the incremental load of orders and line items plus the models
downstream of them, up to `customer_360`.
"""

import json

import dagster as dg

from c360_core.settings import settings
from landing import SOURCES
from orchestration.lib import shop
from orchestration.lib.load import landing_files

SHOP_SOURCES = ("orders", "order_line_items")


def _newest_file(landing) -> float:
    stamps = [p.stat().st_mtime for s in SHOP_SOURCES for p in landing_files(landing, SOURCES[s])]
    return max(stamps, default=0.0)


def orders_sensor(job) -> dg.SensorDefinition:
    @dg.sensor(
        name="c360_orders_sensor",
        job=job,
        minimum_interval_seconds=10,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Loads new or changed shop orders (Postgres `shop` schema, or landing/shop/ files) "
        "and refreshes the order models and customer_360.",
    )
    def _sensor(context: dg.SensorEvaluationContext):
        cfg = settings()
        seen = json.loads(context.cursor) if context.cursor else {}
        now = {"files": _newest_file(cfg.landing)}
        if cfg.target == "postgres":
            now["shop"] = shop.latest_change(cfg)
        if now == seen:
            return dg.SkipReason("no new shop changes")
        context.update_cursor(json.dumps(now))
        return dg.RunRequest(run_key=json.dumps(now, sort_keys=True), tags={"c360/trigger": "orders_sensor"})

    return _sensor
