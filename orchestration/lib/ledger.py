"""The audit ledger, audit.load_runs: one row per landing file per load (loaded, failed or removed), with its
hash, size, modification time and counts. What is loaded, what changed and what was refused all read from it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from c360_core.warehouse import Warehouse, arrow_table, create_table, table_exists
from landing import Source

if TYPE_CHECKING:
    from orchestration.lib.reading import Incoming

AUDIT_COLUMNS = {
    "load_id": "varchar", "source": "varchar", "file": "varchar", "file_sha256": "varchar",
    "file_bytes": "integer", "file_modified_at": "timestamp", "rows_read": "integer", "rows_loaded": "integer",
    "rows_rejected": "integer", "started_at": "timestamp", "finished_at": "timestamp", "status": "varchar",
    "error": "varchar",
}  # fmt: skip


def ensure_ledger(wh: Warehouse) -> None:
    create_table(wh, "audit.load_runs", AUDIT_COLUMNS)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def audit_row(load_id: str, source: Source, f: Incoming, counts: tuple[int, int], started: dt.datetime) -> tuple:
    loaded, rejected = counts
    return (load_id, source.name, f.rel, f.digest, f.size, f.modified_at, loaded + rejected, loaded, rejected,
            started, utc_now(), "loaded", None)  # fmt: skip


def record_failure(wh: Warehouse, source: Source, f: Incoming, error: str, load_id: str) -> None:
    now = utc_now()
    row = (load_id, source.name, f.rel, f.digest, f.size, f.modified_at, 0, 0, 0, now, now, "failed", error)
    wh.insert_arrow("audit.load_runs", arrow_table(AUDIT_COLUMNS, [row]))


@dataclass(frozen=True)
class Loaded:
    """A file whose latest audit row says its rows are in raw, as it was when loaded."""

    sha256: str | None
    size: int | None
    modified_at: dt.datetime | None


def audited_files(wh: Warehouse, source: Source) -> dict[str, Loaded | None]:
    """Every file the audit has seen: its state as loaded when its newest audit row says its rows are
    in raw, else None (failed or removed)."""
    sql = """
        select file, status, file_sha256, file_bytes, file_modified_at from (
            select file, file_sha256, file_bytes, file_modified_at, status,
                row_number() over (partition by file order by finished_at desc, status desc) as newest
            from audit.load_runs where source = ?
        ) as latest
        where newest = 1
    """
    _, rows = wh.query(sql, [source.name])
    return {f: Loaded(sha, size, modified) if status == "loaded" else None for f, status, sha, size, modified in rows}


def refused_files(wh: Warehouse, landing: Path) -> dict[str, dict[str, str]]:
    """{source: {file: why}} for the files whose latest load refused them and that are still in the landing
    zone: until each is fixed (it loads) or removed, its source's data is incomplete. One query for all."""
    if not table_exists(wh, "audit.load_runs"):
        return {}
    _, rows = wh.query("""
        select source, file, error from (
            select source, file, status, error,
                row_number() over (partition by source, file order by finished_at desc, status desc) as newest
            from audit.load_runs
        ) as latest
        where newest = 1 and status = 'failed'
    """)  # fmt: skip
    out: dict[str, dict[str, str]] = {}
    for source, f, error in rows:
        if (landing / f).exists():
            out.setdefault(source, {})[f] = error
    return out


def loaded_only(audited: dict[str, Loaded | None]) -> dict[str, Loaded]:
    return {f: seen for f, seen in audited.items() if seen is not None}


def loaded_files(wh: Warehouse, source: Source) -> dict[str, Loaded]:
    return loaded_only(audited_files(wh, source))
