"""`c360 sql`: query the current target and print a readable table."""

from __future__ import annotations

import duckdb
import psycopg
from rich.console import Console
from rich.table import Table

from c360_core.settings import settings
from c360_core.warehouse import connect

MAX_ROWS = 200


def run_sql(query: str) -> int:
    cfg = settings()
    out, err = Console(), Console(stderr=True)
    if cfg.target == "duckdb" and not cfg.duckdb_path.exists():
        err.print(f"[red]No warehouse at {cfg.duckdb_path}.[/] Run `make demo` (or `c360 materialize`) first.")
        return 2
    try:
        with connect(cfg) as wh:
            columns, rows = wh.query(query)
    except (duckdb.Error, psycopg.Error) as exc:
        err.print(f"[red]SQL error:[/] {str(exc).strip()}")
        return 1
    table = Table(*columns)
    for row in rows[:MAX_ROWS]:
        table.add_row(*("∅" if v is None else str(v) for v in row))
    out.print(table)
    shown = f", first {MAX_ROWS} shown" if len(rows) > MAX_ROWS else ""
    out.print(f"{len(rows):,} row(s){shown}")
    return 0
