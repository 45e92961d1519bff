"""The shop database (Postgres schema `shop`) as a near-real-time source.

`c360 simulate-shop` writes orders there; the orders sensor probes it for changes and the
orders assets pull the changed rows by an `(updated_at, key)` watermark: an index range scan,
never a full scan. The watermark is stored in the warehouse (audit.shop_watermarks) and
committed in the same transaction as the rows it covers, so a pull is idempotent and a crash
loses nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg

from c360_core.settings import Settings
from c360_core.warehouse import Warehouse, arrow_table, create_table
from landing import SHOP_DDL, SOURCES
from orchestration.lib.load import AUDIT_COLUMNS, META, LoadSummary, ensure_tables

# warehouse source -> shop table it is pulled from
TABLES = {"orders": "orders", "order_line_items": "order_line_items"}
PAGE = 50_000
WATERMARK_COLUMNS = {"source": "varchar", "updated_at": "timestamp", "key": "varchar", "pulled_at": "timestamp"}


def shop_dsn(cfg: Settings) -> str:
    return cfg.pg_dsn.replace(f"dbname={cfg.pg_database}", f"dbname={cfg.shop_database}")


def create_shop(cfg: Settings) -> None:
    with psycopg.connect(shop_dsn(cfg), autocommit=True) as con:
        con.execute(SHOP_DDL)


def latest_change(cfg: Settings) -> str | None:
    """The newest updated_at in the shop (an index lookup), or None when there is no shop schema."""
    try:
        with psycopg.connect(shop_dsn(cfg), connect_timeout=5) as con:
            row = con.execute(
                "select greatest((select max(updated_at) from shop.orders),"
                " (select max(updated_at) from shop.order_line_items))"
            ).fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
        return None  # no shop yet: nothing to load
    except psycopg.OperationalError as err:
        if "does not exist" in str(err):  # no shop database yet
            return None
        raise
    return row[0].isoformat() if row and row[0] else None


def _watermark(wh: Warehouse, source: str) -> tuple[dt.datetime, str]:
    _, rows = wh.query("select updated_at, key from audit.shop_watermarks where source = ?", [source])
    return rows[0] if rows else (dt.datetime(1900, 1, 1), "")


def pull(wh: Warehouse, cfg: Settings, source_name: str, summary: LoadSummary) -> None:
    """Append the shop rows changed since the watermark to raw.<source>, page by page."""
    source = SOURCES[source_name]
    ensure_tables(wh, source)
    create_table(wh, "audit.shop_watermarks", WATERMARK_COLUMNS)
    table, key, columns = TABLES[source_name], source.key, list(source.columns)
    with psycopg.connect(shop_dsn(cfg), connect_timeout=5) as con:
        exists = con.execute("select to_regclass(%s)", [f"shop.{table}"]).fetchone()[0]
        if not exists:
            return
        while True:
            since, since_key = _watermark(wh, source_name)
            rows = con.execute(
                f"select {', '.join(columns)}, updated_at from shop.{table}"
                f" where (updated_at, {key}) > (%s, %s) order by updated_at, {key} limit {PAGE}",
                [since, since_key],
            ).fetchall()
            if not rows:
                return
            _append(wh, source_name, f"shop.{table}", rows, summary, key_index=columns.index(key))
            if len(rows) < PAGE:
                return


def _append(wh: Warehouse, source_name: str, origin: str, rows: list, summary: LoadSummary, *, key_index: int) -> None:
    load_id, now = uuid.uuid4().hex[:12], dt.datetime.now(dt.UTC).replace(tzinfo=None)
    source = SOURCES[source_name]
    last_ts, last_key = rows[-1][-1], rows[-1][key_index]
    batch = [(*r[:-1], load_id, origin, i + 1, now) for i, r in enumerate(rows)]
    audit = [(load_id, source_name, f"{origin}@{last_ts.isoformat()}", None, None, last_ts, len(rows), len(rows), 0,
              now, now, "loaded", None)]  # fmt: skip
    with wh.transaction():
        wh.insert_arrow(f"raw.{source_name}", arrow_table({**source.columns, **META}, batch))
        wh.insert_arrow("audit.load_runs", arrow_table(AUDIT_COLUMNS, audit))
        wh.execute("delete from audit.shop_watermarks where source = ?", [source_name])
        wh.execute("insert into audit.shop_watermarks values (?, ?, ?, ?)", [source_name, last_ts, last_key, now])
    summary.rows_read += len(rows)
    summary.rows_loaded += len(rows)
