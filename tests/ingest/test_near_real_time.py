"""Near-real-time orders: simulate-shop changes orders in Postgres while the orders sensor runs;
they reach marts.orders and customer_360 with the right totals and no duplicates."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import dagster as dg
import psycopg

from c360_core.settings import settings
from c360_core.warehouse import connect
from orchestration.definitions import defs
from orchestration.lib.shop import shop_dsn
from simulator.live_shop import LandingShop, LiveShop, PostgresShop, run
from tests.support import expected
from tests.support.warehouse import AS_OF, env


def tick(instance, cursor: str | None) -> tuple[str | None, int]:
    """One evaluation of the real sensor; a run request is executed as the daemon would launch it."""
    sensor = defs.get_sensor_def("c360_orders_sensor")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    result = sensor.evaluate_tick(context)
    for request in result.run_requests or []:
        job = defs.resolve_job_def(sensor.job_name)
        assert job.execute_in_process(instance=instance, tags=request.tags, raise_on_error=False).success
    return result.cursor, len(result.run_requests or [])


def test_live_orders_reach_customer_360_through_the_sensor(forked, instance):
    with env(forked):
        sensor_on_a_live_shop(settings(), instance)


def sensor_on_a_live_shop(cfg, instance) -> None:
    """`cfg`: the settings of a copy of the built warehouse, its landing zone loaded and every model built."""
    cursor, runs = tick(instance, None)  # first tick: the landing history is already loaded
    history = expected.customer_orders(cfg.landing, AS_OF)  # by hand, before the shop goes live

    shop = LiveShop(cfg.landing, seed=11, update_share=0.5)
    postgres = cfg.target == "postgres"
    sink = PostgresShop(shop_dsn(cfg)) if postgres else LandingShop(cfg.landing, batch_seconds=1.0)
    stop = threading.Event()
    writer = threading.Thread(target=run, args=(shop, sink, 20.0, 8.0, stop))
    writer.start()
    while writer.is_alive():  # the sensor runs while the shop changes
        cursor, n = tick(instance, cursor)
        runs += n
        time.sleep(0.5)
    writer.join()
    cursor, n = tick(instance, cursor)  # the last changes
    runs += n
    assert runs >= 2 and shop.created > 20 and shop.updated > 10
    assert tick(instance, cursor)[1] == 0  # nothing new: no run

    live = live_orders(cfg, shop)
    with connect(cfg) as wh:
        _, rows = wh.query("select order_id, order_status, total_amount from marts.orders where order_id like 'OL%'")
        _, [(n_rows, n_ids)] = wh.query("select count(*), count(distinct order_id) from marts.orders")
        _, c360 = wh.query("select customer_id, orders_count, total_order_value from marts.customer_360")
    assert n_rows == n_ids  # status updates replace an order, never duplicate it
    assert {r[0]: (r[1], r[2]) for r in rows} == {k: (v[0], expected.money(v[1])) for k, v in live.items()}

    # customer totals: the landing history plus the live orders, counted by hand
    counts = {k: (v["orders_count"], v["total_order_value"]) for k, v in history.items()}
    for order_id, (status, total) in live.items():
        if status not in ("Canceled", "Returned"):
            customer = shop_customer(shop, order_id)
            n, value = counts.get(customer, (0, Decimal(0)))
            counts[customer] = (n + 1, value + expected.money(total))
    got = {c: (n, v) for c, n, v in c360 if n}
    assert got == counts  # exact: the totals are decimals


def live_orders(cfg, shop: LiveShop) -> dict[str, tuple[str, float]]:
    """The live orders' current status and total, as the shop itself holds them."""
    if cfg.target == "postgres":
        with psycopg.connect(shop_dsn(cfg)) as con:
            rows = con.execute("select order_id, order_status, total_amount from shop.orders").fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}
    return {k: (v["order_status"], v["total_amount"]) for k, v in shop.history.items()}


def shop_customer(shop: LiveShop, order_id: str) -> str:
    return shop.history[order_id]["customer_id"]
