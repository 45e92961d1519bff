"""Retention: delete raw rows older than each source's policy (governance/retention.yml), and log it.

Only raw tables are trimmed: the incremental models keep what they built from the deleted rows (their
aggregates stay); rejects go when their file's period is past the cutoff. A policy with `keep_latest` keeps
each record's latest row whatever its age, so the CRM and the catalogue lose their history, not their
customers and products. Every run appends what it removed to
audit.retention_runs, even when it removed nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

from c360_core.settings import Settings, settings
from c360_core.warehouse import arrow_table, connect, create_table, table_exists
from landing import SOURCES, period_of

RUN_COLUMNS = {"ran_at": "timestamp", "source": "varchar", "keep_days": "integer", "cutoff": "timestamp",
               "rows_removed": "bigint", "rejects_removed": "bigint"}  # fmt: skip


@dataclass(frozen=True)
class Policy:
    source: str
    column: str | None
    days: int | None
    keep_latest: bool = False  # keep each record's latest row, however old (a customer stays a customer)
    follows: str | None = None  # a parent source: its rows go with the parent rows retention removes


@dataclass(frozen=True)
class Removed:
    source: str
    cutoff: dt.datetime
    rows: int
    rejects: int


def load_policies(path: Path | None = None) -> list[Policy]:
    path = path or settings().retention_file
    doc = yaml.safe_load(path.read_text()) or {}
    out = []
    for source, p in (doc.get("sources") or {}).items():
        days = p.get("days")
        if days is not None and (not isinstance(days, int) or days < 0):
            raise ValueError(f"{path}: {source}: days must be a whole number of days or null, got {days!r}")
        if days is not None and not p.get("column"):
            raise ValueError(f"{path}: {source}: a retention in days needs the column that dates a row")
        follows = p.get("follows")
        if follows is not None and follows not in (doc.get("sources") or {}):
            raise ValueError(f"{path}: {source}: follows {follows!r}, which the file does not name")
        out.append(Policy(source, p.get("column"), days, bool(p.get("keep_latest", False)), follows))
    return out


def _latest(p: Policy) -> str:
    """The raw rows (by file and line) that are their record's latest: by the policy's column, then the file."""
    key = SOURCES[p.source].key
    return (f"select _source_file, _line from (select _source_file, _line, row_number() over (partition by {key} "
            f"order by {p.column} desc, _source_file desc, _line desc) as newest from raw.{p.source}) as ranked "
            "where newest = 1")  # fmt: skip


def apply_retention(cfg: Settings, policies: list[Policy] | None = None) -> list[Removed]:
    """Delete what the policies no longer keep, one transaction per source (with the rows that follow it);
    returns what went, a row per source and one per follower that lost rows with its parent."""
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
            followers = [c for c in policies if c.follows == p.source and table_exists(wh, f"raw.{c.source}")]
            with wh.transaction():
                rows, gone = _remove_rows(wh, p, cutoff, bool(followers))
                rejects = _remove_rejects(wh, p, cutoff)
                out = [(p.source, rows, rejects)]
                for child in followers:  # e.g. the lines of the orders that went
                    key = SOURCES[p.source].key
                    where = f"{key} in (select {key} from {gone}) and {key} not in (select {key} from {table})"
                    _, [(n,)] = wh.query(f"select count(*) from raw.{child.source} where {where}")
                    wh.execute(f"delete from raw.{child.source} where {where}")
                    out.append((child.source, n, 0))
                if gone:
                    wh.execute(f"drop table {gone}")
                runs = [(now, source, p.days, cutoff, n, r) for source, n, r in out]
                wh.insert_arrow("audit.retention_runs", arrow_table(RUN_COLUMNS, runs))
            removed += [Removed(source, cutoff, int(n), int(r)) for source, n, r in out]
    return removed


def _remove_rows(wh, p: Policy, cutoff: dt.datetime, keep_keys: bool) -> tuple[int, str | None]:
    """Delete the source's rows before the cutoff (but each record's latest, with keep_latest); with keep_keys,
    the keys of the rows that went are kept in a temporary table, whose name is returned."""
    table, at = f"raw.{p.source}", f"cast('{cutoff:%Y-%m-%d %H:%M:%S}' as timestamp)"
    old = f"{p.column} < {at}" + (f" and (_source_file, _line) not in ({_latest(p)})" if p.keep_latest else "")
    gone = None
    if keep_keys:
        gone, key = "retention_gone", SOURCES[p.source].key
        wh.execute(f"create temporary table {gone} as select distinct {key} from {table} where {old}")
    _, [(rows,)] = wh.query(f"select count(*) from {table} where {old}")
    wh.execute(f"delete from {table} where {old}")
    return rows, gone


def _remove_rejects(wh, p: Policy, cutoff: dt.datetime) -> int:
    """A reject has no trustworthy date of its own: its file's period dates it."""
    table = f"raw.{p.source}__rejects"
    _, found = wh.query(f"select distinct _source_file from {table}")
    old = [f for (f,) in found if period_of(p.source, f) < cutoff]
    rejects = 0
    for i in range(0, len(old), 200):
        batch = old[i : i + 200]
        marks = ", ".join(["?"] * len(batch))
        where = f"from {table} where _source_file in ({marks})"
        _, [(n,)] = wh.query(f"select count(*) {where}", batch)
        wh.execute(f"delete {where}", batch)
        rejects += n
    return rejects
