"""Compat: dbt-duckdb's connection manager (orchestration/compat/__init__.py)."""

from __future__ import annotations

# the installed versions these private names were read in (uv.lock pins them)
CHECKED = {"dbt-duckdb": "1.11.1"}


def close_dbt_duckdb_database() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for the process.

    dbt-duckdb keeps one `Environment` (its DuckDB connection) in `DuckDBConnectionManager._ENV`, and its
    public `close_all_connections()` only drops the reference: the connection closes when the garbage
    collector gets to it, later if a reference cycle holds it (a failed test's traceback, say). Until then
    the file stays open in the process, and the next connection to it waits on that collection.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager  # noqa: PLC0415

    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if environment is not None:
        environment.close()
