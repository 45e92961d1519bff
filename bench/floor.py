"""The floor: one DuckDB statement from the landing files to customer_360's core columns.

No rejects, no audit, no contracts, no history, no other mart: just the answer, as fast as an engine
gives it (from plain or compressed files: DuckDB decompresses .gz and .zst by their names), so that
`make bench` can say how many times the floor the real pipeline costs.
`python -m bench.floor LANDING OUT.parquet [AS_OF]` (run as its own process by bench/run.py).
"""

from __future__ import annotations

import datetime as dt
import sys

import duckdb

SQL = """
copy (
    with customers as (
        select * from read_csv('{landing}/crm/customers/customers_*.csv*', header = true, all_varchar = true,
            ignore_errors = true)
        qualify row_number() over (partition by customer_id order by updated_at desc) = 1
    ), orders as (
        select * from read_json('{landing}/shop/orders/orders_*.jsonl*', format = 'newline_delimited',
            ignore_errors = true, columns = {{order_id: 'varchar', customer_id: 'varchar', order_date: 'timestamp',
            order_status: 'varchar', total_amount: 'double', updated_at: 'timestamp'}})
        qualify row_number() over (partition by order_id order by updated_at desc) = 1
    ), per_customer as (
        select customer_id, count(*) as orders_count, sum(total_amount) as total_order_value,
            max(order_date) as last_order_at
        from orders where order_status not in ('Canceled', 'Returned') group by 1
    ), events as (
        select entity_id as customer_id, count(*) as events
        from read_json('{landing}/web/events/date=*/hour=*/events.jsonl*', format = 'newline_delimited',
            ignore_errors = true, columns = {{activity_uuid: 'varchar', entity_id: 'varchar'}})
        where entity_id is not null group by 1
    )
    select c.customer_id, c.first_name, c.last_name, c.email_address, c.state,
        coalesce(o.orders_count, 0) as orders_count, coalesce(o.total_order_value, 0) as total_order_value,
        o.last_order_at, date_diff('day', o.last_order_at::date, date '{as_of}') as recency_days,
        coalesce(e.events, 0) as web_events
    from customers as c
    left join per_customer as o using (customer_id)
    left join events as e using (customer_id)
) to '{out}' (format parquet)
"""


def main(landing: str, out: str, as_of: str | None = None) -> None:
    as_of = as_of or dt.date.today().isoformat()
    duckdb.connect().execute(SQL.format(landing=landing, out=out, as_of=as_of))


if __name__ == "__main__":
    main(*sys.argv[1:])
