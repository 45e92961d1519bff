"""Which landing files a load takes: a source's files (of some days), those of a partition window, and those
new or changed since the ledger says they were loaded (by size and modification time, before any read)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from c360_core.warehouse import Warehouse
from landing import Source, files, period_of
from orchestration.lib.ledger import Loaded, ensure_ledger, loaded_files


def landing_files(landing: Path, source: Source, dates: list[str] | None = None) -> list[Path]:
    """The source's files in the landing zone (of those days only, where its files sit in day folders)."""
    return files(landing, source.name, dates)


def unchanged(path: Path, seen: Loaded | None) -> bool:
    """Same size and modification time as when it was loaded (a re-delivery changes the time)."""
    if seen is None or seen.modified_at is None:
        return False
    stat = path.stat()
    modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(tzinfo=None)
    return seen.size == stat.st_size and abs((seen.modified_at - modified).total_seconds()) < 1e-3


def pending_files(wh: Warehouse, source: Source, landing: Path) -> list[Path]:
    """Landing files not loaded yet, or changed (size or modification time) since they were."""
    ensure_ledger(wh)
    loaded = loaded_files(wh, source)
    return [p for p in landing_files(landing, source) if not unchanged(p, loaded.get(rel_path(p, landing)))]


def files_in_window(landing: Path, source: Source, start: dt.datetime, end: dt.datetime) -> list[Path]:
    """The source's landing files whose period begins in [start, end) (naive UTC).

    A short window (an hourly run's day) names its days, so web events, in a folder per day, list those
    folders, not the year's 8,760 files.
    """
    days = (end - start).days + 1
    dates = [(start + dt.timedelta(days=i)).date().isoformat() for i in range(days)] if days <= 31 else None
    candidates = landing_files(landing, source, dates)
    return [p for p in candidates if start <= period_of(source.name, rel_path(p, landing)) < end]


def rel_path(path: Path, landing: Path) -> str:
    return str(path.relative_to(landing))
