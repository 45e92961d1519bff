"""Load new landing files of one source into raw.<source>, idempotently and atomically.

A file is identified by its path and content hash. A file whose size and
modification time are as they were at its load is skipped without being read;
otherwise it is hashed, and a file already loaded with the same hash is skipped
too. A changed file replaces the rows it loaded before.
JSON lines and CSV are parsed in bulk inside DuckDB (bulk.py), JSON arrays and XML (small catalog files)
record by record (parse.py); both give the same rows and rejects.
Files commit in chunks, each in one transaction: its rows, its rejects and
its audit rows commit together or not at all. So a crash never leaves a part
of a file behind. A file that cannot be read gets an audit row with its error,
and loads nothing.
Progress is logged (logger `c360.load`: the first chunk, then every 10 s): the Dagster UI shows it in the run's
log and `c360 materialize` prints it, so a long first load shows its progress.
"""

from __future__ import annotations

import codecs
import datetime as dt
import logging
import os
import re
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from c360_core.settings import settings
from c360_core.warehouse import Warehouse, arrow_table, create_table, table_exists
from governance.erasure import ERASED, SOURCE_KEYS, key_hash, suppressed
from landing import Source, decompress, files, period_of
from orchestration.lib.bulk import BULK_FORMATS, FileIn, parse_batch
from orchestration.lib.parse import parse_file, sha256

log = logging.getLogger("c360.load")
PROGRESS_EVERY = 10.0  # seconds between progress lines (the first and the last chunk are always logged)
PARSERS = 2  # chunks parsed at once, besides the one committing (memory: about three chunks)
CHUNK_BYTES = 64 * 2**20  # a chunk commits in one transaction and bounds memory (~0.5 GB of rows at most)
# DuckDB rewrites every row group appended since its last checkpoint when it checkpoints, at the latest when
# the warehouse closes, holding them in memory: closing after a year of web events at 100k took 1.7 GB more
# than the load itself. A checkpoint every ~2M rows (16 row groups) bounds that, for about the same time.
CHECKPOINT_ROWS = 2_000_000
META = {"_load_id": "varchar", "_source_file": "varchar", "_line": "integer", "_loaded_at": "timestamp"}
REJECT_COLUMNS = {"_load_id": "varchar", "_source_file": "varchar", "_line": "integer", "record": "varchar",
                  "reason": "varchar", "_loaded_at": "timestamp"}  # fmt: skip
AUDIT_COLUMNS = {
    "load_id": "varchar", "source": "varchar", "file": "varchar", "file_sha256": "varchar",
    "file_bytes": "integer", "file_modified_at": "timestamp", "rows_read": "integer", "rows_loaded": "integer",
    "rows_rejected": "integer", "started_at": "timestamp", "finished_at": "timestamp", "status": "varchar",
    "error": "varchar",
}  # fmt: skip


@dataclass
class Incoming:
    """A landing file read for loading: its bytes, their hash and its modification time."""

    rel: str
    data: bytes  # the content (decompressed when the file is .gz or .zst)
    digest: str  # of the file as it lies in the landing zone
    modified_at: dt.datetime
    known: bool  # loaded (or tried) before: its old rows are deleted first; a first load deletes nothing
    size: int  # bytes on disk


@dataclass
class Chunk:
    good: list[Incoming]  # the files that load (the others have an entry in errors)
    rows: pa.Table
    rejects: pa.Table
    audit: list[tuple]
    errors: dict[str, str]


@dataclass
class LoadSummary:
    source: str
    files_loaded: int = 0
    files_skipped: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    files_removed: int = 0
    total_rows: int = 0
    failures: list[str] = field(default_factory=list)


def ensure_tables(wh: Warehouse, source: Source) -> None:
    create_table(wh, f"raw.{source.name}", {**source.columns, **META})
    create_table(wh, f"raw.{source.name}__rejects", REJECT_COLUMNS)
    create_table(wh, "audit.load_runs", AUDIT_COLUMNS)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _audit_row(load_id: str, source: Source, f: Incoming, counts: tuple[int, int], started: dt.datetime) -> tuple:
    loaded, rejected = counts
    return (load_id, source.name, f.rel, f.digest, f.size, f.modified_at, loaded + rejected, loaded, rejected,
            started, _now(), "loaded", None)  # fmt: skip


def _commit(wh: Warehouse, source: Source, chunk: Chunk) -> None:
    """A chunk's rows, rejects and audit rows: all of them or none (a changed file replaces its old rows)."""
    with wh.transaction():
        _delete_files(wh, source, [f.rel for f in chunk.good if f.known])
        wh.insert_arrow(f"raw.{source.name}", chunk.rows)
        wh.insert_arrow(f"raw.{source.name}__rejects", chunk.rejects)
        wh.insert_arrow("audit.load_runs", arrow_table(AUDIT_COLUMNS, chunk.audit))


def _parse_chunk(
    source: Source, new: list[Incoming], load_id: str, started: dt.datetime, suppress: Suppression | None = None
) -> Chunk:
    """Typed rows, rejects and audit rows of a chunk of files, in bulk (JSON lines, CSV) or record by record."""
    now = _now()
    if source.fmt in BULK_FORMATS:
        parsed = parse_batch(source, [FileIn(f.rel, f.data) for f in new])
        good = [f for f in new if f.rel not in parsed.errors]
        n = parsed.rows.num_rows
        rows = parsed.rows.append_column("_load_id", pa.repeat(pa.scalar(load_id, pa.string()), n)).append_column(
            "_loaded_at", pa.repeat(pa.scalar(now, pa.timestamp("us")), n)
        )
        rejects = [(load_id, rel, line, raw, reason, now) for rel, line, raw, reason in parsed.rejects]
        counts = {f.rel: (parsed.loaded.get(f.rel, 0), parsed.rejected.get(f.rel, 0)) for f in good}
        errors = parsed.errors
    else:
        files = [parse_file(source, f.rel, f.data, f.digest, f.modified_at) for f in new]
        errors = {p.rel: p.error for p in files if p.error}
        good = [f for f in new if f.rel not in errors]
        ok = [p for p in files if not p.error]
        rows = arrow_table(
            {**source.columns, **META}, [(*v, load_id, p.rel, line, now) for p in ok for line, v in p.rows]
        )
        rejects = [(load_id, p.rel, line, raw, reason, now) for p in ok for line, raw, reason in p.rejects]
        counts = {p.rel: (len(p.rows), len(p.rejects)) for p in ok}
    if suppress:
        rows, rejects = _suppress(source, rows, rejects, suppress)
        loaded = Counter(rows.column("_source_file").to_pylist())
        rejected = Counter(r[1] for r in rejects)
        counts = {f.rel: (loaded[f.rel], rejected[f.rel]) for f in good}
    audit = [_audit_row(load_id, source, f, counts[f.rel], started) for f in good]
    return Chunk(good, rows, arrow_table(REJECT_COLUMNS, rejects), audit, errors)


@dataclass(frozen=True)
class Suppression:
    """The hashed keys of erased customers (governance/erasure.py) and the salt they were hashed with."""

    hashes: frozenset[str]
    salt: str


TOKEN = re.compile(r"[A-Za-z0-9_.@+\-]+")
SUPPRESSED = "suppressed: the record of an erased customer"


def _suppress(source: Source, rows: pa.Table, rejects: list[tuple], s: Suppression) -> tuple[pa.Table, list]:
    """Set aside the records of erased customers: they become rejects that keep no personal data."""
    drop = pa.array([False] * rows.num_rows)
    for column in SOURCE_KEYS.get(source.name, {}):
        values = [v for v in pc.unique(rows.column(column)).to_pylist() if v is not None]
        matched = [v for v in values if key_hash(v, s.salt) in s.hashes]
        if matched:
            drop = pc.or_(drop, pc.fill_null(pc.is_in(rows.column(column), pa.array(matched)), False))
    kept = []
    for reject in rejects:  # a malformed record of theirs, found by its tokens
        load_id, rel, line, raw, _, now = reject
        erased = any(key_hash(t, s.salt) in s.hashes for t in set(TOKEN.findall(raw)))
        kept.append((load_id, rel, line, ERASED, SUPPRESSED, now) if erased else reject)
    if pc.any(drop).as_py():
        gone = rows.filter(drop).select(["_load_id", "_source_file", "_line", "_loaded_at"]).to_pylist()
        kept += [(r["_load_id"], r["_source_file"], r["_line"], ERASED, SUPPRESSED, r["_loaded_at"]) for r in gone]
        rows = rows.filter(pc.invert(drop))
    return rows, kept


def _delete_files(wh: Warehouse, source: Source, files: list[str]) -> None:
    for table in (f"raw.{source.name}", f"raw.{source.name}__rejects"):
        for i in range(0, len(files), 200):
            batch = files[i : i + 200]
            marks = ", ".join(["?"] * len(batch))
            wh.execute(f"delete from {table} where _source_file in ({marks})", batch)


def _record_failure(wh: Warehouse, source: Source, f: Incoming, error: str, load_id: str) -> None:
    now = _now()
    row = (load_id, source.name, f.rel, f.digest, f.size, f.modified_at, 0, 0, 0, now, now, "failed", error)
    wh.insert_arrow("audit.load_runs", arrow_table(AUDIT_COLUMNS, [row]))


def landing_files(landing: Path, source: Source, dates: list[str] | None = None) -> list[Path]:
    """The source's files in the landing zone (of those days only, where its files sit in day folders)."""
    return files(landing, source.name, dates)


@dataclass(frozen=True)
class Loaded:
    """A file whose latest audit row says its rows are in raw, as it was when loaded."""

    sha256: str | None
    size: int | None
    modified_at: dt.datetime | None


def _audited_files(wh: Warehouse, source: Source) -> dict[str, Loaded | None]:
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


def _loaded(audited: dict[str, Loaded | None]) -> dict[str, Loaded]:
    return {f: seen for f, seen in audited.items() if seen is not None}


def _loaded_files(wh: Warehouse, source: Source) -> dict[str, Loaded]:
    return _loaded(_audited_files(wh, source))


def load_source(
    wh: Warehouse,
    source: Source,
    landing: Path,
    files: list[Path] | None = None,
    *,
    on_chunk: Callable[[LoadSummary], None] | None = None,
    force: bool = False,
) -> LoadSummary:
    """Load the source's new or changed files (all of them, or just `files`).

    With `force`, files already loaded are read again and replace their rows (a partition re-run).
    Files are read in order, a chunk at a time; PARSERS threads parse the next chunks (in DuckDB,
    which leaves the GIL) while this one commits. Chunks still commit one by one, in file order.
    """
    ensure_tables(wh, source)
    cfg = settings()
    hashes = suppressed(wh)  # erased customers stay erased, whatever the files say
    suppress = Suppression(frozenset(hashes), cfg.pii_salt) if hashes else None
    audited = _audited_files(wh, source)
    loaded = {} if force else _loaded(audited)
    paths = files if files is not None else landing_files(landing, source)
    reader = _Reader(source, landing, paths, loaded, set(audited), cfg.load_chunk_files)
    summary = LoadSummary(source.name)
    last_log, since_checkpoint = None, 0
    with ThreadPoolExecutor(max_workers=PARSERS, thread_name_prefix="c360-parse") as pool:
        inflight: deque[tuple[_Batch, Future | None]] = deque()

        def feed() -> None:  # read the next files (here, in order) and hand them to a parser
            while len(inflight) < PARSERS and (batch := reader.next_batch()) is not None:
                args = (source, batch.new, reader.load_id, batch.started, suppress)
                inflight.append((batch, pool.submit(_parse_chunk, *args) if batch.new else None))

        feed()
        while inflight:
            batch, parse = inflight.popleft()
            chunk = parse.result() if parse else None
            feed()  # the parsers work on the next chunks while this one commits
            summary.files_skipped += batch.skipped
            for f, error in batch.broken:  # a broken .gz/.zst: the file fails, with the reason
                _record_failure(wh, source, f, error, reader.load_id)
                summary.failures.append(error)
            if chunk is None:
                continue
            for f in batch.new:
                if f.rel in chunk.errors:
                    _record_failure(wh, source, f, chunk.errors[f.rel], reader.load_id)
                    summary.failures.append(chunk.errors[f.rel])
            if chunk.good:
                _commit(wh, source, chunk)
                since_checkpoint += chunk.rows.num_rows
                if since_checkpoint >= CHECKPOINT_ROWS:
                    wh.checkpoint()
                    since_checkpoint = 0
            summary.files_loaded += len(chunk.good)
            summary.rows_loaded += chunk.rows.num_rows
            summary.rows_rejected += chunk.rejects.num_rows
            summary.rows_read += chunk.rows.num_rows + chunk.rejects.num_rows
            if last_log is None or time.monotonic() - last_log > PROGRESS_EVERY or batch.done == len(paths):
                last_log = time.monotonic()
                log.info(
                    "%s: %s of %s files done (%s rows loaded, %s rejected)", source.name, f"{batch.done:,}",
                    f"{len(paths):,}", f"{summary.rows_loaded:,}", f"{summary.rows_rejected:,}",
                )  # fmt: skip
            if on_chunk:
                on_chunk(summary)
    return summary


@dataclass
class _Batch:
    """The next files to commit together: read, hashed and decompressed."""

    new: list[Incoming]  # to parse (none when every file was skipped or broken)
    broken: list[tuple[Incoming, str]]  # compressed files that do not decompress, and why
    skipped: int  # unchanged files, not read again
    done: int  # files of the load gone through so far
    started: dt.datetime


@dataclass
class _Reader:
    """Reads the load's files in order, a chunk at a time (at most chunk_files files and CHUNK_BYTES)."""

    source: Source
    landing: Path
    paths: list[Path]
    loaded: dict[str, Loaded]
    known: set[str]  # files that may have rows (or rejects) in raw to replace
    chunk_files: int
    load_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    i: int = 0

    def next_batch(self) -> _Batch | None:
        if self.i >= len(self.paths):
            return None
        started = _now()
        new: list[Incoming] = []
        broken: list[tuple[Incoming, str]] = []
        skipped = size = 0
        while self.i < len(self.paths) and len(new) < self.chunk_files and size < CHUNK_BYTES:
            path = self.paths[self.i]
            self.i += 1
            rel = _rel(path, self.landing)
            seen = self.loaded.get(rel)
            if _unchanged(path, seen):  # stat first: an untouched file is not even read
                skipped += 1
                continue
            data, mtime = _read(path)
            digest = sha256(data)
            if seen is not None and seen.sha256 == digest:  # hash next: a loaded file is never parsed again
                skipped += 1
                continue
            f = Incoming(rel, data, digest, mtime, known=rel in self.known, size=len(data))
            try:
                f.data = _without_bom(decompress(rel, data))
            except ValueError as err:
                broken.append((f, str(err)))
                continue
            new.append(f)
            size += len(f.data)
        return _Batch(new, broken, skipped, self.i, started)


def _without_bom(data: bytes) -> bytes:
    """The content without a leading UTF-8 byte-order mark, which Windows tools write: it is not part of the
    first record (a JSON line would be malformed, a CSV header would misname its first column)."""
    return data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data


def _read(path: Path) -> tuple[bytes, dt.datetime]:
    """A file's bytes and modification time, from one open file: os.open, fstat and read take half the time
    of Path.read_bytes and Path.stat, which counts for the shop's many small files (33k orders at 10k)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        stat = os.fstat(fd)
        mtime, parts = stat.st_mtime, []
        while chunk := os.read(fd, stat.st_size + 1):  # the whole file in one read, unless it grew
            parts.append(chunk)
    finally:
        os.close(fd)
    return b"".join(parts), dt.datetime.fromtimestamp(mtime, dt.UTC).replace(tzinfo=None)


def _unchanged(path: Path, seen: Loaded | None) -> bool:
    """Same size and modification time as when it was loaded (a re-delivery changes the time)."""
    if seen is None or seen.modified_at is None:
        return False
    stat = path.stat()
    modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(tzinfo=None)
    return seen.size == stat.st_size and abs((seen.modified_at - modified).total_seconds()) < 1e-3


def pending_files(wh: Warehouse, source: Source, landing: Path) -> list[Path]:
    """Landing files not loaded yet, or changed (size or modification time) since they were."""
    ensure_tables(wh, source)
    loaded = _loaded_files(wh, source)
    return [p for p in landing_files(landing, source) if not _unchanged(p, loaded.get(_rel(p, landing)))]


def files_in_window(landing: Path, source: Source, start: dt.datetime, end: dt.datetime) -> list[Path]:
    """The source's landing files whose period begins in [start, end) (naive UTC).

    A short window (an hourly run's day) names its days, so web events, in a folder per day, list those
    folders, not the year's 8,760 files.
    """
    days = (end - start).days + 1
    dates = [(start + dt.timedelta(days=i)).date().isoformat() for i in range(days)] if days <= 31 else None
    candidates = landing_files(landing, source, dates)
    return [p for p in candidates if start <= period_of(source.name, _rel(p, landing)) < end]


def _rel(path: Path, landing: Path) -> str:
    return str(path.relative_to(landing))


def load_window(
    wh: Warehouse, source: Source, landing: Path, start: dt.datetime, end: dt.datetime, *, force: bool = True
) -> LoadSummary:
    """Make raw hold exactly the window's current landing files: a partition (or range) load.

    Files of the window are (re)loaded; files loaded before whose period is in the window but that
    are gone from the landing zone have their rows removed (audit status 'removed').
    """
    ensure_tables(wh, source)
    present = files_in_window(landing, source, start, end)
    names = {_rel(p, landing) for p in present}
    gone = sorted(f for f in _loaded_files(wh, source) if f not in names and start <= period_of(source.name, f) < end)
    if gone:
        _remove(wh, source, gone)
    summary = load_source(wh, source, landing, files=present, force=force)
    summary.files_removed = len(gone)
    return summary


def _remove(wh: Warehouse, source: Source, files: list[str]) -> None:
    load_id, now = uuid.uuid4().hex[:12], dt.datetime.now(dt.UTC).replace(tzinfo=None)
    audit = [(load_id, source.name, f, None, None, None, 0, 0, 0, now, now, "removed", "no longer in the landing zone")
             for f in files]  # fmt: skip
    with wh.transaction():
        _delete_files(wh, source, files)
        wh.insert_arrow("audit.load_runs", arrow_table(AUDIT_COLUMNS, audit))
