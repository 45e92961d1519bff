"""`c360 sql`: query the current target and print a readable table; every call is audited."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import time

import click
import duckdb
import psycopg
from rich.console import Console
from rich.table import Table

from c360_core.settings import settings
from c360_core.warehouse import connect
from governance.audit import Access, record

MAX_ROWS = 200
FORMATS = ("table", "csv", "json")


def render(columns: list[str], rows: list[tuple], fmt: str) -> str:
    """Every row as CSV (a header, then the values; NULL is empty) or as JSON (a list of objects)."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return out.getvalue()
    return json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=_json_value) + "\n"


def _json_value(value):
    if isinstance(value, decimal.Decimal):
        return str(value)  # exact: 12.30 stays 12.30
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def run_sql(query: str, role: str | None = None, fmt: str = "table") -> int:
    """Run the query (on Postgres as `role`, which the server then enforces) and log it in audit.access_log."""
    cfg = settings()
    out, err = Console(), Console(stderr=True)
    if cfg.target == "duckdb" and not cfg.duckdb_path.exists():
        err.print(f"[red]No warehouse at {cfg.duckdb_path}.[/] Run `make demo` (or `c360 materialize`) first.")
        return 2
    with connect(cfg) as wh:
        started, clock = dt.datetime.now(dt.UTC).replace(tzinfo=None), time.perf_counter()
        columns, rows, error = [], [], None
        try:
            if role and cfg.target == "postgres":
                wh.execute(f'set role "{role}"')
            columns, rows = wh.query(query)
        except (duckdb.Error, psycopg.Error) as exc:
            error = str(exc).strip()
        finally:
            if role and cfg.target == "postgres":
                wh.execute("reset role")  # the audit row is written by the owner, not the role
        used = role or ("owner" if cfg.target == "duckdb" else cfg.pg_user)
        access = Access("sql", query, used, started, (time.perf_counter() - clock) * 1000, len(rows), error)
        record(wh, access, "postgres" if cfg.target == "postgres" else "duckdb")
    if error:
        err.print(f"[red]SQL error:[/] {error}")
        return 1
    if fmt != "table":  # every row, for a file or another program
        click.echo(render(columns, rows, fmt), nl=False)
        return 0
    table = Table(*columns)
    for row in rows[:MAX_ROWS]:
        table.add_row(*("∅" if v is None else str(v) for v in row))
    out.print(table)
    shown = f", first {MAX_ROWS} shown" if len(rows) > MAX_ROWS else ""
    out.print(f"{len(rows):,} row(s){shown}")
    return 0
