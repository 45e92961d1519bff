"""Serialise records into landing files, plant defects, and keep the tally.

Files are written to a temporary name and renamed, so a loader watching the
landing zone never sees half a file. A file's modification time is the moment
its period closed (or, for a planted late file, when it "arrived").
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import multiprocessing
import operator
import os
import xml.etree.ElementTree as ET
import zlib
from collections import defaultdict, deque
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import orjson
import pyarrow as pa

from landing import SOURCES, path_for
from simulator.config import STREAM_DEFECTS, GeneratorConfig
from simulator.defects import BURST_COPIES, bounce_spike, plant, plant_lines
from simulator.web import EventBatch


def _public(source: str, row: dict) -> dict:
    """The record as documented: exactly the source's columns, in order."""
    return {c: row.get(c) for c in SOURCES[source].columns}


def _csv(source: str, rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")  # writes None as an empty field
    writer.writerow(SOURCES[source].columns)
    writer.writerows(map(operator.itemgetter(*SOURCES[source].columns), rows))
    return buf.getvalue().encode()


def _jsonl(source: str, rows: list[dict]) -> bytes:
    """One JSON object per line. Rows built in column order are dumped as they are, once their
    private keys (`_t`, `_defects`) are dropped: copying every row was a third of the writing time."""
    columns = tuple(SOURCES[source].columns)
    in_order = bool(rows) and tuple(k for k in rows[0] if k[0] != "_") == columns
    dumps, lines = orjson.dumps, []
    for r in rows:
        r.pop("_t", None)
        defects = r.pop("_defects", ())
        line = dumps(r) if in_order and len(r) == len(columns) else dumps(_public(source, r))
        if ("malformed_line", None) in defects:
            line = line[: len(line) // 2]  # a record cut off mid-write
        lines.append(line)
    lines.append(b"")
    return b"\n".join(lines) if rows else b""


def _xml(source: str, rows: list[dict]) -> bytes:
    root = ET.Element("brands")
    for r in rows:
        brand = ET.SubElement(root, "brand")
        for k, v in _public(source, r).items():
            ET.SubElement(brand, k).text = "" if v is None else str(v)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


COMPRESSIONS = {"none": "", "gzip": ".gz", "zstd": ".zst"}  # --compress -> file suffix


def compress(payload: bytes, codec: str) -> bytes:
    """Deterministic bytes: gzip without a timestamp, zstd as one frame (DuckDB and the loader read both)."""
    if codec == "gzip":
        return gzip.compress(payload, compresslevel=1, mtime=0)
    if codec == "zstd":
        return pa.compress(payload, codec="zstd", asbytes=True) if payload else b""
    return payload


class Landing:
    def __init__(self, cfg: GeneratorConfig) -> None:
        self.cfg, self.root = cfg, Path(cfg.out)
        self.stats: dict[str, dict[str, int]] = defaultdict(lambda: {"files": 0, "rows": 0, "bytes": 0})
        self.manifest: list[dict] = []

    def write(self, source: str, stamp: str, rows: list[dict], closed_at: int, may_be_late: bool = False) -> None:
        rel = path_for(source, stamp) + COMPRESSIONS[self.cfg.compress]
        rng = self.cfg.rng(STREAM_DEFECTS, zlib.crc32(path_for(source, stamp).encode()))
        mtime = closed_at
        if self.cfg.defects and may_be_late and rng.random() < self.cfg.defects:
            delay = int(rng.integers(2, 31))
            mtime = closed_at + delay * 3600
            self.manifest.append({"kind": "late_file", "source": source, "file": rel, "delay_hours": delay})
        if isinstance(rows, EventBatch):  # columns: serialised in bulk, defects planted in the lines
            # the period's last hour gets a bounce-rate spike (the trend check reads the latest hour)
            spike = bool(self.cfg.defects) and stamp == f"{self.cfg.end.isoformat()}T23"
            payload, n_rows = self._columns(source, rel, rows, rng, spike)
        else:
            payload, n_rows = self._rows(source, rel, rows, rng)
        tally = self.stats[source]
        tally["files"] += 1
        tally["rows"] += n_rows
        tally["bytes"] += len(payload)  # uncompressed: the same figure whatever the codec
        self._atomic_write(self.root / rel, compress(payload, self.cfg.compress), mtime)

    def _rows(self, source: str, rel: str, rows: list[dict], rng) -> tuple[bytes, int]:
        """The file's bytes and its number of records (planted duplicates included)."""
        rows = plant(source, rows, self.cfg.defects, rng)
        fmt = SOURCES[source].fmt
        self._record_defects(source, rel, rows, {"csv": 2, "jsonl": 1}.get(fmt))
        if fmt == "csv":
            return _csv(source, rows), len(rows)
        if fmt == "jsonl":
            return _jsonl(source, rows), len(rows)
        if fmt == "json":
            return orjson.dumps([_public(source, r) for r in rows], option=orjson.OPT_INDENT_2), len(rows)
        return _xml(source, rows), len(rows)

    def _columns(self, source: str, rel: str, batch: EventBatch, rng, spike: bool) -> tuple[bytes, int]:
        """The file's bytes and its number of records (page-view bursts and a spike's sessions included)."""
        lines = batch.json_lines()
        key = SOURCES[source].key
        for i, kind, column, record in plant_lines(source, lines, batch.row, self.cfg.defects, rng):
            entry = {"kind": kind, "source": source, "file": rel, "line": 1 + i, "key": record[key], "column": column}
            if kind == "page_view_burst":
                entry |= {"session": record["session_id"], "copies": BURST_COPIES}
            self.manifest.append(entry)
        if spike:
            hour = dt.datetime.combine(self.cfg.end, dt.time(23))
            added = bounce_spike(lines, batch.row, len(batch), hour, rng)
            self.manifest.append({"kind": "bounce_spike", "source": source, "file": rel, "sessions": added})
        n = len(lines)
        lines.append(b"")
        return (b"\n".join(lines) if n else b""), n

    def _record_defects(self, source: str, rel: str, rows: list[dict], first_line: int | None) -> None:
        key = SOURCES[source].key
        for i, r in enumerate(rows):
            if "_defects" not in r:
                continue
            for kind, column in r["_defects"]:
                where = {"line": first_line + i} if first_line else {"index": i}
                self.manifest.append(
                    {"kind": kind, "source": source, "file": rel, **where, "key": r[key], "column": column}
                )

    @staticmethod
    def _atomic_write(path: Path, payload: bytes, mtime: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(payload)
        os.utime(tmp, (mtime, mtime))
        os.replace(tmp, path)


_LANDING: Landing | None = None  # a writer process's own Landing


def _start_writer(cfg: GeneratorConfig) -> None:
    global _LANDING  # noqa: PLW0603  (one per worker process, set once)
    _LANDING = Landing(cfg)


def _write_day(writes: list[tuple]) -> dict:
    _LANDING.stats.clear()
    _LANDING.manifest = []
    for args in writes:
        _LANDING.write(*args)
    return {"stats": dict(_LANDING.stats), "manifest": _LANDING.manifest}


class DayWriters:
    """Write each day's files in worker processes while the parent simulates the next days.

    A day's rows travel as they are (web events as numpy columns, so they pickle as buffers); the
    workers serialise, compress and write, and send back their tally and defect manifest, which the
    parent merges in day order. The bytes are the same with any number of workers: every random draw
    a write makes comes from its file's own stream. With one worker everything runs in the parent.
    """

    def __init__(self, landing: Landing, workers: int) -> None:
        self.landing, self.workers = landing, workers
        self.pool = None
        if workers > 1:  # spawned, not forked: the parent has threads (the progress bar) and a big heap
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(workers, context, initializer=_start_writer, initargs=(landing.cfg,))
        self.running: deque[tuple[str, Future]] = deque()

    def submit(self, label: str, writes: list[tuple]) -> None:
        if self.pool is None:
            for args in writes:
                self.landing.write(*args)
            return
        while len(self.running) > self.workers:  # one day queued per worker bounds the memory
            self._join()
        self.running.append((label, self.pool.submit(_write_day, writes)))

    def _join(self) -> None:
        label, future = self.running.popleft()
        try:
            report = future.result()
        except Exception as err:
            raise RuntimeError(f"writing the files of {label} failed: {err}") from err
        for source, tally in report["stats"].items():
            for k, v in tally.items():
                self.landing.stats[source][k] += v
        self.landing.manifest.extend(report["manifest"])

    def close(self) -> None:
        """Wait for every write (each file is renamed into place, so none is ever half written)."""
        try:
            while self.running:
                self._join()
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)
                self.pool = None
