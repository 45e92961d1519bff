"""The access trail: every query made through c360's own interfaces (`c360 sql`, `c360 mf`, any later
API) gets one row in audit.access_log: who, as which role, the statement, the relations it touched, the
rows it returned, how long it took, when, and whether it failed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from c360_core.settings import settings
from c360_core.warehouse import Warehouse, arrow_table, create_table

COLUMNS = {
    "accessed_at": "timestamp", "user_name": "varchar", "role_name": "varchar", "interface": "varchar",
    "statement": "varchar", "relations": "varchar", "row_count": "bigint", "duration_ms": "double",
    "status": "varchar", "error": "varchar",
}  # fmt: skip


@dataclass
class Access:
    interface: str  # sql, mf, ...
    statement: str
    role: str
    started_at: dt.datetime
    duration_ms: float
    row_count: int | None = None
    error: str | None = None


def who() -> str:
    """The person behind the call: C360_USER when a front end sets it, else the operating-system user."""
    return settings().user


def relations(statement: str, dialect: str) -> list[str]:
    """schema.table of every table or view the statement names (CTE names excluded), sorted."""
    try:
        tree = sqlglot.parse(statement, read=dialect)
    except sqlglot.errors.ParseError:
        return []
    ctes = {c.alias_or_name for t in tree if t for c in t.find_all(exp.CTE)}
    found = {
        ".".join(p for p in (t.db, t.name) if p)
        for tree_ in tree
        if tree_
        for t in tree_.find_all(exp.Table)
        if t.name and t.name not in ctes
    }
    return sorted(found)


def ensure(wh: Warehouse) -> None:
    create_table(wh, "audit.access_log", COLUMNS)


def record(wh: Warehouse, access: Access, dialect: str) -> None:
    record_many(wh, [access], dialect)


def record_many(wh: Warehouse, accesses: list[Access], dialect: str) -> None:
    """Rows of audit.access_log in one insert (a server batches its callers' rows)."""
    if not accesses:
        return
    ensure(wh)
    user = who()
    rows = [(a.started_at, user, a.role, a.interface, a.statement,
             ",".join(relations(a.statement, dialect)) if a.interface == "sql" else "",
             a.row_count, round(a.duration_ms, 3), "error" if a.error else "ok", a.error)
            for a in accesses]  # fmt: skip
    wh.insert_arrow("audit.access_log", arrow_table(COLUMNS, rows))
