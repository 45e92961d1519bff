"""One small interface over the three warehouse engines: connect, bulk-insert, run SQL.

Loaders and the CLI talk to this, never to duckdb, psycopg or pyspark directly, so an engine is one class here.
Callers write the SQL DuckDB and PostgreSQL share, with `?` placeholders; each class makes it its engine's.
"""

from __future__ import annotations

import contextlib
import decimal
import io
import time
from collections.abc import Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv

from c360_core.settings import Settings

if TYPE_CHECKING:  # pandas is imported where a frame is made: half a second off every start-up
    import pandas as pd

SCHEMAS = ("raw", "staging", "intermediate", "marts", "semantic", "ml", "quality", "audit", "snapshots")
PG_TYPES = {"varchar": "text", "double": "double precision", "integer": "integer", "date": "date",
            "timestamp": "timestamp", "bigint": "bigint", "boolean": "boolean"}  # fmt: skip
ARROW_TYPES = {"varchar": pa.string(), "integer": pa.int64(), "bigint": pa.int64(), "double": pa.float64(),
               "date": pa.date32(), "timestamp": pa.timestamp("us"), "boolean": pa.bool_()}  # fmt: skip


class Warehouse(Protocol):
    transactional: bool  # False: transaction() does not make a block all-or-nothing (Spark's Parquet tables)

    def execute(self, sql: str, params: Sequence | None = None) -> None: ...
    def query(self, sql: str, params: Sequence | None = None) -> tuple[list[str], list[tuple]]: ...
    def insert_arrow(self, table: str, data: pa.Table, *, replace: bool = False) -> None: ...
    def fetch_frame(self, sql: str, params: Sequence | None = None) -> pd.DataFrame: ...
    def column_type(self, kind: str, random: bool = False) -> str: ...
    def has_table(self, table: str) -> bool: ...
    def transaction(self) -> contextlib.AbstractContextManager: ...
    def checkpoint(self) -> None: ...
    def close(self) -> None: ...


def duckdb_config(cfg: Settings) -> dict[str, str]:
    """The one configuration every connection of this process opens the warehouse file with.

    DuckDB shares one database instance per file among a process's connections, and refuses a new
    connection whose configuration differs from the open one's ("Can't open a connection to same database
    file with a different configuration"). So c360's connections, Soda's (it borrows one of c360's, see
    quality/soda.py) and dbt's (profiles.yml `config_options`, from the same variable and default; a test
    keeps the two equal) all open it with exactly this.

    The memory limit: DuckDB would otherwise cache up to 80% of RAM; big loads spill to disk past it.
    """
    return {"memory_limit": cfg.duckdb_memory_limit}


OPEN_ATTEMPTS = 5


def _open_duckdb(path: str, config: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """Open the file; when another thread of the process opens it at the same instant, DuckDB refuses one of
    the two ("Unique file handle conflict", ResourceInUseException): try again shortly (dbt's connection
    does the same, profiles.yml `retries`)."""
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return duckdb.connect(path, config=config)
        except duckdb.ResourceInUseException:
            if attempt == OPEN_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


class DuckDBWarehouse:
    transactional = True

    def __init__(self, path, config: dict[str, str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con = _open_duckdb(str(path), config)

    def execute(self, sql, params=None) -> None:
        self.con.execute(sql, params or [])

    def query(self, sql, params=None):
        cur = self.con.execute(sql, params or [])
        return [d[0] for d in cur.description or []], cur.fetchall()

    def insert_arrow(self, table: str, data: pa.Table, *, replace: bool = False) -> None:
        """Append by column name; `replace`: in place of every row the table had (in the caller's transaction)."""
        if replace:
            self.con.execute(f"delete from {table}")
        self.con.register("_batch", data)
        try:
            self.con.execute(f"insert into {table} by name select * from _batch")
        finally:
            self.con.unregister("_batch")

    def fetch_frame(self, sql, params=None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def column_type(self, kind: str, random: bool = False) -> str:
        # random text (UUIDs): DuckDB's DICT_FSST barely shrinks it, and costs the time of a load's insert. On
        # 6M UUIDs uncompressed: written in 1.97 s against 6.29 s, scanned in 0.075 s against 0.222 s, at 1.9x
        # the bytes (docs/decisions.md, 2026-12-07)
        return f"{kind} using compression uncompressed" if random else kind

    def has_table(self, table: str) -> bool:
        return _in_information_schema(self, table)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("begin transaction")
        try:
            yield
        except BaseException:
            self.con.execute("rollback")
            raise
        self.con.execute("commit")

    def checkpoint(self) -> None:
        """Write what was committed into the file now (DuckDB also does it on close), outside a transaction."""
        self.con.execute("checkpoint")

    def close(self) -> None:
        self.con.close()


class PostgresWarehouse:
    """Callers write `?` placeholders, as for DuckDB; they become psycopg's `%s` here."""

    transactional = True

    def __init__(self, dsn: str) -> None:
        self.con = psycopg.connect(dsn, autocommit=True)

    def execute(self, sql, params=None) -> None:
        self.con.execute(sql.replace("?", "%s") if params else sql, params)

    def query(self, sql, params=None):
        cur = self.con.execute(sql.replace("?", "%s") if params else sql, params)
        return [d.name for d in cur.description or []], cur.fetchall()

    def insert_arrow(self, table: str, data: pa.Table, *, replace: bool = False) -> None:
        """COPY is Postgres's bulk path: Arrow's C++ CSV writer feeds it in batches, no Python per row.
        `replace`: in place of every row the table had (in the caller's transaction).

        In PostgreSQL's CSV format an unquoted empty field is NULL and a quoted one ("") the empty string,
        which is how Arrow writes them.
        """
        if replace:
            self.con.execute(f"delete from {table}")
        columns = ", ".join(data.column_names)
        with self.con.cursor().copy(f"copy {table} ({columns}) from stdin with (format csv)") as copy:
            for batch in data.to_batches(max_chunksize=100_000):
                buffer = io.BytesIO()
                pa_csv.write_csv(batch, buffer, pa_csv.WriteOptions(include_header=False))
                copy.write(buffer.getvalue())

    def fetch_frame(self, sql, params=None) -> pd.DataFrame:
        """Numeric columns come back as floats (Postgres numerics arrive as Decimal)."""
        import pandas as pd  # noqa: PLC0415  (slow import)

        columns, rows = self.query(sql, params)
        frame = pd.DataFrame.from_records(rows, columns=columns)
        for name in frame.columns:
            if frame[name].map(lambda v: isinstance(v, decimal.Decimal)).any():
                frame[name] = frame[name].astype("float64")
        return frame

    def column_type(self, kind: str, random: bool = False) -> str:
        return PG_TYPES[kind]

    def has_table(self, table: str) -> bool:
        return _in_information_schema(self, table)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.con.transaction():
            yield

    def checkpoint(self) -> None:
        """PostgreSQL's own checkpoints keep its memory bounded: nothing to do."""

    def close(self) -> None:
        self.con.close()


def duckdb_connection(wh: Warehouse) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection under a DuckDB warehouse, for a library that takes one (Soda)."""
    if not isinstance(wh, DuckDBWarehouse):
        raise TypeError(f"not a DuckDB warehouse: {type(wh).__name__}")
    return wh.con


def spark_session(wh: Warehouse):
    """The Spark (Connect) session under a Spark warehouse, for a library that takes one (Soda)."""
    if type(wh).__name__ != "SparkWarehouse":  # not imported here: pyspark loads only where Spark is used
        raise TypeError(f"not a Spark warehouse: {type(wh).__name__}")
    return wh.spark


def create_table(wh: Warehouse, table: str, columns: dict[str, str], random: Collection[str] = ()) -> None:
    """Create a table from {column: portable type} (varchar, integer, bigint, double, date, timestamp, boolean).

    `random`: columns of random values (UUIDs), which an engine may store without trying to compress them."""
    cols = ", ".join(f"{name} {wh.column_type(kind, name in random)}" for name, kind in columns.items())
    wh.execute(f"create table if not exists {table} ({cols})")


def table_exists(wh: Warehouse, table: str) -> bool:
    """Whether schema.table exists (as a table or a view) in the warehouse."""
    return wh.has_table(table)


def _in_information_schema(wh: Warehouse, table: str) -> bool:
    schema, name = table.split(".")
    _, rows = wh.query(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    )
    return rows[0][0] > 0


def arrow_table(columns: dict[str, str], rows: list[tuple]) -> pa.Table:
    """Rows as an Arrow table typed by the same portable types, ready for `insert_arrow`."""
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    arrays = [pa.array(list(v), ARROW_TYPES[kind]) for v, kind in zip(values, columns.values(), strict=True)]
    return pa.Table.from_arrays(arrays, names=list(columns))


def ensure_pg_database(cfg: Settings) -> None:
    """Create the c360 database on the server if it is missing."""
    admin = cfg.pg_dsn.replace(f"dbname={cfg.pg_database}", "dbname=postgres")
    with psycopg.connect(admin, autocommit=True) as con:
        exists = con.execute("select 1 from pg_database where datname = %s", [cfg.pg_database]).fetchone()
        if not exists:
            con.execute(f'create database "{cfg.pg_database}"')


@contextlib.contextmanager
def connect(cfg: Settings) -> Iterator[Warehouse]:
    """Open the configured warehouse with every c360 schema present."""
    if cfg.target == "spark":
        from c360_core.spark_warehouse import SparkWarehouse  # noqa: PLC0415  (pyspark: only where Spark is used)

        wh: Warehouse = SparkWarehouse(cfg)
    elif cfg.target == "postgres":
        ensure_pg_database(cfg)
        wh = PostgresWarehouse(cfg.pg_dsn)
    else:
        wh = DuckDBWarehouse(cfg.duckdb_path, duckdb_config(cfg))
    try:
        for schema in SCHEMAS:
            wh.execute(f"create schema if not exists {schema}")
        yield wh
    finally:
        wh.close()
