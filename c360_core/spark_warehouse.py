"""The warehouse on Spark: a client of the cluster's Spark Connect server (c360_core/spark.py), tables as Parquet.

Callers write the SQL DuckDB and PostgreSQL share; sqlglot rewrites it as Spark SQL (`?` placeholders stay:
Spark binds positional parameters itself). Two things Parquet tables lack, and what stands in for them:
- `delete`: the rows to keep are written to a side table, then overwrite the table (`insert overwrite`), so a
  reader sees the old rows or the new ones. It rewrites the table: callers delete rarely (a changed or removed
  landing file, an erasure, a replaced small table).
- transactions: none across statements. `transaction()` runs the block as it goes, and `transactional` is
  False so that a caller that needs all-or-nothing orders its writes instead: the loaders write a file's audit
  row last, and drop the rows of files that have none before they load again (orchestration/lib/load.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from c360_core.spark import SparkError, remote_url
from c360_core.spark_compat import own_session

if TYPE_CHECKING:
    import pandas as pd

    from c360_core.settings import Settings

SPARK_TYPES = {"varchar": "string", "integer": "int", "bigint": "bigint", "double": "double", "date": "date",
               "timestamp": "timestamp", "boolean": "boolean"}  # fmt: skip
INSERT_ROWS = 500_000  # rows sent to the server at once (a Connect message is bounded)


def _zoned(node: exp.Expression) -> exp.Expression:
    """A plain `timestamp` stays Spark's `timestamp` (sqlglot reads DuckDB's as one without a zone and writes
    TIMESTAMP_NTZ). The sessions run in UTC, so it holds the wall-clock values DuckDB's and PostgreSQL's hold,
    and it is the type dbt's models cast to on Spark."""
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TIMESTAMPNTZ:
        return exp.DataType(this=exp.DataType.Type.TIMESTAMPTZ)
    return node


def spark_sql(sql: str) -> list[exp.Expression]:
    """The statements of a DuckDB/PostgreSQL text, as Spark expressions."""
    return [e.transform(_zoned) for e in sqlglot.parse(sql, read="duckdb") if e is not None]


def _naive(table: pa.Table) -> pa.Table:
    """Timestamps as DuckDB gives them: UTC wall-clock values without a zone (Spark's arrive zoned in UTC)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            table = table.set_column(i, field.name, pc.cast(table.column(i), pa.timestamp("us")))
    return table


class SparkWarehouse:
    transactional = False

    def __init__(self, cfg: Settings) -> None:
        url = remote_url(cfg)
        self.spark = own_session(url)  # not the process's default one, which dbt takes (spark_compat.py)
        try:
            self.spark.sql("select 1").collect()
        except Exception as e:  # grpc's UNAVAILABLE, wrapped by pyspark: say what to do
            raise SparkError(f"no Spark Connect server answers at {url}: run `c360 spark start`, or set "
                             f"C360_SPARK_REMOTE to a running one ({type(e).__name__})") from None  # fmt: skip
        self._columns: dict[str, list[str]] = {}

    def _sql(self, text: str, params: Sequence | None = None):
        return self.spark.sql(text, args=list(params)) if params else self.spark.sql(text)

    def _run(self, statement: exp.Expression, params: Sequence | None):
        return self._sql(statement.sql(dialect="spark"), params)

    def _result(self, sql: str, params: Sequence | None) -> pa.Table:
        """The last statement's rows as Arrow, timestamps as DuckDB gives them (the statements before it run)."""
        *before, last = spark_sql(sql)
        for statement in before:
            self._run(statement, params)
        return _naive(self._run(last, params).toArrow())

    def execute(self, sql, params=None) -> None:
        for statement in spark_sql(sql):
            if isinstance(statement, exp.Delete):
                self._delete(statement, params)
            else:
                self._run(statement, params)
                if isinstance(statement, exp.Create | exp.Drop | exp.Alter):
                    self._columns.clear()

    def _delete(self, statement: exp.Delete, params: Sequence | None) -> None:
        """`delete from t where c`: keep the rows where c is not true, then put them back over the table."""
        table = statement.this.sql(dialect="spark")
        where = statement.args.get("where")
        if where is None:
            self._sql(f"truncate table {table}")
            return
        keep = f"{table}__keep"
        self._sql(f"drop table if exists {keep}")
        self._sql(f"create table {keep} as select * from {table} "
                  f"where not coalesce({where.this.sql(dialect='spark')}, false)", params)  # fmt: skip
        self._sql(f"insert overwrite table {table} select * from {keep}")
        self._sql(f"drop table {keep}")

    def query(self, sql, params=None):
        table = self._result(sql, params)
        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        return table.column_names, list(zip(*columns, strict=True))

    def insert_arrow(self, table: str, data: pa.Table, *, replace: bool = False) -> None:
        """Append by column name (a column the data lacks is null), in pieces of INSERT_ROWS. `replace`: the
        first piece overwrites the table (`insert overwrite`: a reader sees the old rows or the new ones, as
        long as the data fit one piece)."""
        if data.num_rows == 0:
            if replace:
                self._sql(f"truncate table {table}")
            return
        if table not in self._columns:
            self._columns[table] = self.spark.table(table).columns
        target = self._columns[table]
        for name in target:
            if name not in data.column_names:
                data = data.append_column(name, pa.nulls(data.num_rows))
        data = data.select(target)
        for start in range(0, data.num_rows, INSERT_ROWS):
            piece = self.spark.createDataFrame(data.slice(start, INSERT_ROWS))
            piece.write.insertInto(table, overwrite=replace and start == 0)

    def fetch_frame(self, sql, params=None) -> pd.DataFrame:
        return self._result(sql, params).to_pandas()

    def column_type(self, kind: str, random: bool = False) -> str:
        return SPARK_TYPES[kind]

    def has_table(self, table: str) -> bool:
        return self.spark.catalog.tableExists(table)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """No transactions on Parquet: the block's statements take effect one by one (see the module)."""
        yield

    def checkpoint(self) -> None:
        """Nothing to do: every statement's files are committed when it ends."""

    def close(self) -> None:
        self.spark.stop()
