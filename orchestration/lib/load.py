"""Load new landing files of one source into raw.<source>, idempotently and atomically.

A file is identified by its path and content hash. A file whose size and
modification time are as they were at its load is skipped without being read;
otherwise it is hashed, and a file already loaded with the same hash is skipped
too. A changed file replaces the rows it loaded before.
JSON lines and CSV are parsed in bulk inside DuckDB (bulk.py), JSON arrays and XML (small catalog files)
record by record (parse.py); both give the same rows and rejects.
Files commit in chunks, one or more in one transaction: their rows, rejects and
audit rows commit together or not at all. So a crash never leaves a part
of a file behind. A file that cannot be read gets an audit row with its error,
and loads nothing. On a warehouse without transactions (Spark's Parquet tables), a chunk's audit rows are
written last, and a load first drops the rows of files that have none: what a crash left behind goes before
anything is read again, and the file loads whole.
Progress is logged (logger `c360.load`: the first chunk, then every 10 s): the Dagster UI shows it in the run's
log and `c360 materialize` prints it, so a long first load shows its progress.

The parts, each in a module of its own: which files a load takes (discovery.py), the audit ledger of what was
loaded, refused or removed (ledger.py), reading and decompressing the files in chunks (reading.py), parsing
them (bulk.py, parse.py) and setting aside the records of erased customers (suppression.py). This module
commits them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from c360_core.settings import settings
from c360_core.warehouse import Warehouse, arrow_table, create_table
from governance.erasure import suppressed
from landing import Source, period_of
from orchestration.lib.bulk import BULK_FORMATS, FileIn, parse_batch
from orchestration.lib.discovery import files_in_window, landing_files, pending_files, rel_path
from orchestration.lib.keys import key_columns, migrate, with_keys
from orchestration.lib.ledger import (
    AUDIT_COLUMNS,
    Loaded,
    audit_row,
    audited_files,
    ensure_ledger,
    loaded_files,
    loaded_only,
    record_failure,
    refused_files,
    utc_now,
)
from orchestration.lib.parse import parse_file
from orchestration.lib.reading import Batch, Incoming, Reader
from orchestration.lib.suppression import Suppression, set_aside_erased

# what the rest of c360 takes from the loader (the ledger and discovery modules have the rest)
__all__ = ["AUDIT_COLUMNS", "META", "REJECT_COLUMNS", "LoadSummary", "ensure_tables", "landing_files", "load_source",
           "load_window", "pending_files", "raw_columns", "refused_files"]  # fmt: skip

log = logging.getLogger("c360.load")
PROGRESS_EVERY = 10.0  # seconds between progress lines (the first and the last chunk are always logged)
PARSERS = 2  # chunks parsed at once, besides the one committing (memory: about three chunks)
# DuckDB rewrites every row group appended since its last checkpoint when it checkpoints, at the latest when
# the warehouse closes, holding them in memory: closing after a year of web events at 100k took 1.7 GB more
# than the load itself. A checkpoint every ~2M rows (16 row groups) bounds that, for about the same time.
CHECKPOINT_ROWS = 2_000_000
COMMIT_ROWS = 500_000  # rows per transaction, at least: consecutive chunks commit together (_commit)
META = {"_load_id": "varchar", "_source_file": "varchar", "_line": "integer", "_loaded_at": "timestamp"}
# columns of random identifiers, which no compression shrinks: stored as they are where the engine lets a column
# say so (DuckDB). At 1M customers x 1 year the web events' ids are 113M UUIDs.
RANDOM_COLUMNS = {"web_events": ("activity_uuid",)}
REJECT_COLUMNS = {"_load_id": "varchar", "_source_file": "varchar", "_line": "integer", "record": "varchar",
                  "reason": "varchar", "_loaded_at": "timestamp"}  # fmt: skip


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


def raw_columns(source: Source) -> dict[str, str]:
    """The columns of raw.<source>, {name: portable type}: the source's, its look-up key (keys.py), the loader's."""
    return {**source.columns, **key_columns(source.name), **META}


def ensure_tables(wh: Warehouse, source: Source) -> None:
    create_table(wh, f"raw.{source.name}", raw_columns(source), RANDOM_COLUMNS.get(source.name, ()))
    migrate(wh, source.name)
    create_table(wh, f"raw.{source.name}__rejects", REJECT_COLUMNS)
    ensure_ledger(wh)


def _commit(wh: Warehouse, source: Source, chunks: list[Chunk]) -> None:
    """Chunks' rows, rejects and audit rows: all of them or none (a changed file replaces its old rows).

    One insert per table: DuckDB writes an insert of COMMIT_ROWS rows or more straight into compressed row
    groups, where smaller ones go through its transaction-local storage and are compressed again when it
    checkpoints (a year of web events at 100k: inserts of 165,000 rows cost twice those of 500,000)."""
    with wh.transaction():
        _delete_files(wh, source, [f.rel for c in chunks for f in c.good if f.known])
        wh.insert_arrow(f"raw.{source.name}", pa.concat_tables([c.rows for c in chunks]))
        wh.insert_arrow(f"raw.{source.name}__rejects", pa.concat_tables([c.rejects for c in chunks]))
        wh.insert_arrow("audit.load_runs", arrow_table(AUDIT_COLUMNS, [a for c in chunks for a in c.audit]))


def _parse_chunk(
    source: Source, new: list[Incoming], load_id: str, started: dt.datetime, suppress: Suppression | None = None
) -> Chunk:
    """Typed rows, rejects and audit rows of a chunk of files, in bulk (JSON lines, CSV) or record by record."""
    now = utc_now()
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
        rows, rejects = set_aside_erased(source, rows, rejects, suppress)
        loaded = Counter(rows.column("_source_file").to_pylist())
        rejected = Counter(r[1] for r in rejects)
        counts = {f.rel: (loaded[f.rel], rejected[f.rel]) for f in good}
    audit = [audit_row(load_id, source, f, counts[f.rel], started) for f in good]
    return Chunk(good, with_keys(source.name, rows), arrow_table(REJECT_COLUMNS, rejects), audit, errors)


def _delete_files(wh: Warehouse, source: Source, files: list[str]) -> None:
    for table in (f"raw.{source.name}", f"raw.{source.name}__rejects"):
        for i in range(0, len(files), 200):
            batch = files[i : i + 200]
            marks = ", ".join(["?"] * len(batch))
            wh.execute(f"delete from {table} where _source_file in ({marks})", batch)


@dataclass
class _Committer:
    """Commits parsed chunks in file order, several in one transaction: at least COMMIT_ROWS rows, at most
    chunk_files files (a chunk that would take it past them goes to the next one). Logs the progress."""

    wh: Warehouse
    source: Source
    summary: LoadSummary
    chunk_files: int
    files: int
    on_chunk: Callable[[LoadSummary], None] | None
    pending: list[Chunk] = field(default_factory=list)
    done: int = 0  # files gone through so far
    since_checkpoint: int = 0
    last_log: float | None = None
    logged: int = -1  # `done` when progress was last logged

    def add(self, chunk: Chunk) -> None:
        if self.pending and sum(len(c.good) for c in self.pending) + len(chunk.good) > self.chunk_files:
            self.commit()
        self.pending.append(chunk)
        rows, files = sum(c.rows.num_rows for c in self.pending), sum(len(c.good) for c in self.pending)
        if rows >= COMMIT_ROWS or files >= self.chunk_files:
            self.commit()

    def commit(self) -> None:
        if not self.pending:
            return
        _commit(self.wh, self.source, self.pending)
        s = self.summary
        for chunk in self.pending:
            self.since_checkpoint += chunk.rows.num_rows
            s.files_loaded += len(chunk.good)
            s.rows_loaded += chunk.rows.num_rows
            s.rows_rejected += chunk.rejects.num_rows
            s.rows_read += chunk.rows.num_rows + chunk.rejects.num_rows
        self.pending.clear()
        if self.since_checkpoint >= CHECKPOINT_ROWS:
            self.wh.checkpoint()
            self.since_checkpoint = 0
        self.progress()
        if self.on_chunk:
            self.on_chunk(s)

    def progress(self, last: bool = False) -> None:
        """The first commit, then one every PROGRESS_EVERY seconds, and the end."""
        due = self.last_log is None or time.monotonic() - self.last_log > PROGRESS_EVERY
        if (due or last or self.done == self.files) and self.logged != self.done:
            self.last_log, self.logged = time.monotonic(), self.done
            log.info(
                "%s: %s of %s files done (%s rows loaded, %s rejected)", self.source.name, f"{self.done:,}",
                f"{self.files:,}", f"{self.summary.rows_loaded:,}", f"{self.summary.rows_rejected:,}",
            )  # fmt: skip


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
    Files are read in order, a chunk at a time; PARSERS threads parse the next chunks (in Arrow and DuckDB,
    which leave the GIL) while the last ones commit. Chunks commit in file order, several in one transaction
    when they are small (_Committer).
    """
    ensure_tables(wh, source)
    cfg = settings()
    hashes = suppressed(wh)  # erased customers stay erased, whatever the files say
    suppress = Suppression(frozenset(hashes), cfg.pii_salt) if hashes else None
    audited = audited_files(wh, source)
    if not wh.transactional:
        _drop_unaudited(wh, source, loaded_only(audited))
    loaded = {} if force else loaded_only(audited)
    paths = files if files is not None else landing_files(landing, source)
    reader = Reader(source, landing, paths, loaded, set(audited), cfg.load_chunk_files)
    summary = LoadSummary(source.name)
    committer = _Committer(wh, source, summary, cfg.load_chunk_files, len(paths), on_chunk)
    with ThreadPoolExecutor(max_workers=PARSERS, thread_name_prefix="c360-parse") as pool:
        inflight: deque[tuple[Batch, Future | None]] = deque()

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
            committer.done = batch.done
            for f, error in batch.broken:  # a broken .gz/.zst: the file fails, with the reason
                record_failure(wh, source, f, error, reader.load_id)
                summary.failures.append(error)
            for f in batch.new if chunk else []:
                if f.rel in chunk.errors:
                    record_failure(wh, source, f, chunk.errors[f.rel], reader.load_id)
                    summary.failures.append(chunk.errors[f.rel])
            if chunk is not None and chunk.good:
                committer.add(chunk)
        committer.commit()
    committer.progress(last=True)
    return summary


def _drop_unaudited(wh: Warehouse, source: Source, loaded: dict[str, Loaded]) -> None:
    """Rows (and rejects) of files that no audit row says are loaded: a commit that stopped half-way."""
    found: set[str] = set()
    for table in (f"raw.{source.name}", f"raw.{source.name}__rejects"):
        found |= {f for (f,) in wh.query(f"select distinct _source_file from {table}")[1]}
    if orphans := sorted(found - loaded.keys()):
        log.warning("%s: removing the rows of %s file(s) whose load did not finish", source.name, len(orphans))
        _delete_files(wh, source, orphans)


def load_window(
    wh: Warehouse, source: Source, landing: Path, start: dt.datetime, end: dt.datetime, *, force: bool = True
) -> LoadSummary:
    """Make raw hold exactly the window's current landing files: a partition (or range) load.

    Files of the window are (re)loaded; files loaded before whose period is in the window but that
    are gone from the landing zone have their rows removed (audit status 'removed').
    """
    ensure_tables(wh, source)
    present = files_in_window(landing, source, start, end)
    names = {rel_path(p, landing) for p in present}
    gone = sorted(f for f in loaded_files(wh, source) if f not in names and start <= period_of(source.name, f) < end)
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
