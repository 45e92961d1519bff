"""Look-up keys: an integer kept beside a column of random ids, which a look-up scans in place of the ids.

The web events' contract checks that no event of a new batch was loaded before: it looks the batch's ids up
among every earlier row, 113M of them at 1M customers x 1 year. Scanning the ids (36 bytes each) reads 4.3 GB;
scanning their keys (8 bytes) 0.9 GB, and DuckDB then fetches the few rows whose key matched by row id and
compares their whole ids (quality/soda.py `id_candidates`). A key is not an identity: two ids may share one.

The key of an id is the integer of its first 15 hex digits (of a UUID: its first 60 bits, which fit a signed
bigint on every engine), null when they are no hex number (an id that is no UUID). One SQL expression, run by
DuckDB on both sides: the loader's in-memory connection for new rows, and the warehouse for the rows of a
table created before the key (`migrate`). PostgreSQL and Spark keep the column, but look ids up whole.
"""

from __future__ import annotations

import pyarrow as pa

from c360_core.warehouse import DuckDBWarehouse, Warehouse
from orchestration.lib.bulk import connection

# source -> (its column of random ids, the key column beside it)
KEYED = {"web_events": ("activity_uuid", "activity_key")}


def key_sql(column: str) -> str:
    """DuckDB's SQL for the key of `column`'s ids."""
    return f"try_cast('0x' || substr(replace(substr({column}, 1, 18), '-', ''), 1, 15) as bigint)"


def key_columns(source: str) -> dict[str, str]:
    """The key column of a source's raw table, {name: portable type}; none for a source without one."""
    return {KEYED[source][1]: "bigint"} if source in KEYED else {}


def with_keys(source: str, rows: pa.Table) -> pa.Table:
    """The rows with their key column appended (as they are for a source without one)."""
    if source not in KEYED:
        return rows
    ids, key = KEYED[source]
    con = connection()  # the parsing thread's in-memory connection
    con.register("_ids", rows.select([ids]))
    try:
        keys = con.sql(f"select {key_sql(ids)} as k from _ids").to_arrow_table().column("k")
    finally:
        con.unregister("_ids")
    return rows.append_column(key, keys.cast(pa.int64()))


def migrate(wh: Warehouse, source: str) -> None:
    """Add the key column to a raw table created before it. DuckDB fills it for the
    rows already there, in the same transaction; on the other engines those rows keep a null key, which their
    look-ups do not read. A null key is always safe: DuckDB's look-up takes every row without a key as a
    candidate (quality/soda.py), so a table filled later or not at all is slower, never wrong."""
    if source not in KEYED:
        return
    ids, key = KEYED[source]
    columns, _ = wh.query(f"select * from raw.{source} where 1 = 0")
    if key in columns:
        return
    with wh.transaction():
        wh.execute(f"alter table raw.{source} add column {key} {wh.column_type('bigint')}")
        if isinstance(wh, DuckDBWarehouse):
            wh.execute(f"update raw.{source} set {key} = {key_sql(ids)}")
