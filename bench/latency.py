"""Orders-sensor latency on Postgres: how long a shop change takes to reach marts.orders/customer_360.

A live shop (simulate-shop) writes changes at a steady rate into the Postgres `shop` schema while
the real orders sensor is evaluated every 10 s (its minimum interval) and each run it requests is
executed in-process, as the daemon would launch it. A change's latency is from its `updated_at`
(the moment the shop committed it) to the end of the first run after which `marts.orders` shows it.
Not included: the daemon's own launch overhead (a new process per run, a few seconds).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import threading
import time

import dagster as dg

from c360_core.settings import settings
from c360_core.warehouse import connect
from orchestration.definitions import defs
from orchestration.lib.shop import shop_dsn
from simulator.live_shop import LiveShop, PostgresShop, run

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class _Recording:
    """A sink wrapper that remembers when each change was committed."""

    def __init__(self, sink) -> None:
        self.sink, self.changes = sink, []

    def write(self, change) -> None:
        self.sink.write(change)
        self.changes.append((change.order["order_id"], change.order["updated_at"]))

    def flush(self) -> None:
        self.sink.flush()

    def close(self) -> None:
        self.sink.close()


def measure(rate: float = 1.0, seconds: float = 180.0, interval: float = 10.0) -> dict:
    cfg = settings()
    sensor = defs.get_sensor_def("c360_orders_sensor")
    job = defs.resolve_job_def(sensor.job_name)
    instance = dg.DagsterInstance.ephemeral()
    cursor = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs)).cursor
    shop = LiveShop(cfg.landing, seed=5)
    sink = _Recording(PostgresShop(shop_dsn(cfg)))
    stop = threading.Event()
    writer = threading.Thread(target=run, args=(shop, sink, rate, seconds, stop))
    writer.start()
    seen: dict[str, dt.datetime] = {}
    latencies, runs, run_seconds = [], 0, []
    while True:
        tick_at = time.monotonic()
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))
        cursor = result.cursor
        for request in result.run_requests or []:
            started = time.monotonic()
            assert job.execute_in_process(
                instance=instance, tags=request.tags, raise_on_error=False, run_config=QUIET
            ).success
            run_seconds.append(time.monotonic() - started)
            runs += 1
            done = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            with connect(cfg) as wh:
                _, rows = wh.query("select order_id, updated_at from marts.orders where order_id like 'OL%'")
            visible = dict(rows)
            for order_id, updated_at in sink.changes:
                key = f"{order_id}@{updated_at.isoformat()}"
                if key not in seen and visible.get(order_id) and visible[order_id] >= updated_at:
                    seen[key] = done
                    latencies.append((done - updated_at).total_seconds())
        if not writer.is_alive() and not result.run_requests:
            break
        time.sleep(max(0.0, interval - (time.monotonic() - tick_at)))
    writer.join()
    latencies.sort()
    q = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    return {
        "stage": "orders sensor latency", "changes": len(sink.changes), "measured": len(latencies), "runs": runs,
        "rate_per_s": rate, "sensor_interval_s": interval, "p50_s": round(statistics.median(latencies), 1),
        "p95_s": round(q[18], 1), "max_s": round(latencies[-1], 1),
        "run_seconds_p50": round(statistics.median(run_seconds), 1),
    }  # fmt: skip


if __name__ == "__main__":  # python -m bench.latency OUT_JSON, on the built warehouse of the environment
    import json
    import sys
    from pathlib import Path

    os.environ.setdefault("C360_TARGET", "postgres")
    Path(sys.argv[1]).write_text(json.dumps(measure(), indent=2))
