"""Retention: delete raw rows older than each source's policy (governance/retention.yml), and log it.

Only raw tables are trimmed: the incremental models keep what they built from the deleted rows (their
aggregates stay); rejects go when their file's period is past the cutoff. Every run appends what it removed to
audit.retention_runs, even when it removed nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from c360_core.settings import Settings
from c360_core.warehouse import arrow_table, connect, create_table, table_exists
from simulator.landing import period_of

POLICY = Path(__file__).with_name("retention.yml")
RUN_COLUMNS = {"ran_at": "timestamp", "source": "varchar", "keep_days": "integer", "cutoff": "timestamp",
               "rows_removed": "bigint", "rejects_removed": "bigint"}  # fmt: skip


@dataclass(frozen=True)
class Policy:
    source: str
    column: str | None
    days: int | None


@dataclass(frozen=True)
class Removed:
    source: str
    cutoff: dt.datetime
    rows: int
    rejects: int


def load_policies(path: Path | None = None) -> list[Policy]:
    path = path or Path(os.environ.get("C360_RETENTION", POLICY))
    doc = yaml.safe_load(path.read_text()) or {}
    out = []
    for source, p in (doc.get("sources") or {}).items():
        days = p.get("days")
        if days is not None and (not isinstance(days, int) or days < 0):
            raise ValueError(f"{path}: {source}: days must be a whole number of days or null, got {days!r}")
        if days is not None and not p.get("column"):
            raise ValueError(f"{path}: {source}: a retention in days needs the column that dates a row")
        out.append(Policy(source, p.get("column"), days))
    return out


def apply_retention(cfg: Settings, policies: list[Policy] | None = None) -> list[Removed]:
    """Delete what the policies no longer keep, one transaction per source; returns what went."""
    policies = load_policies() if policies is None else policies
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    removed = []
    with connect(cfg) as wh:
        create_table(wh, "audit.retention_runs", RUN_COLUMNS)
        for p in policies:
            table = f"raw.{p.source}"
            if p.days is None or not table_exists(wh, table):
                continue
            cutoff = dt.datetime.combine(cfg.as_of_date - dt.timedelta(days=p.days), dt.time())
            with wh.transaction():
                _, [(rows,)] = wh.query(f"select count(*) from {table} where {p.column} < ?", [cutoff])
                wh.execute(f"delete from {table} where {p.column} < ?", [cutoff])
                # a reject has no trustworthy date of its own: its file's period dates it
                _, files = wh.query(f"select distinct _source_file from {table}__rejects")
                old = [f for (f,) in files if period_of(p.source, f) < cutoff]
                rejects = 0
                for i in range(0, len(old), 200):
                    batch = old[i : i + 200]
                    marks = ", ".join(["?"] * len(batch))
                    where = f"from {table}__rejects where _source_file in ({marks})"
                    _, [(n,)] = wh.query(f"select count(*) {where}", batch)
                    wh.execute(f"delete {where}", batch)
                    rejects += n
                row = (now, p.source, p.days, cutoff, rows, rejects)
                wh.insert_arrow("audit.retention_runs", arrow_table(RUN_COLUMNS, [row]))
            removed.append(Removed(p.source, cutoff, int(rows), int(rejects)))
    return removed
