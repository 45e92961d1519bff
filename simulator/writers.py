"""Serialise records into landing files, plant defects, and keep the tally.

Files are written to a temporary name and renamed, so a loader watching the
landing zone never sees half a file. A file's modification time is the moment
its period closed (or, for a planted late file, when it "arrived").
"""

from __future__ import annotations

import csv
import io
import os
import xml.etree.ElementTree as ET
import zlib
from collections import defaultdict
from pathlib import Path

import orjson

from simulator.config import STREAM_DEFECTS, GeneratorConfig
from simulator.defects import plant
from simulator.landing import SOURCES, path_for


def _public(source: str, row: dict) -> dict:
    """The record as documented: exactly the source's columns, in order."""
    return {c: row.get(c) for c in SOURCES[source].columns}


def _csv(source: str, rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SOURCES[source].columns)
    writer.writerows([("" if v is None else v) for v in _public(source, r).values()] for r in rows)
    return buf.getvalue().encode()


def _jsonl(source: str, rows: list[dict]) -> bytes:
    lines = []
    for r in rows:
        line = orjson.dumps(_public(source, r))
        if ("malformed_line", None) in r.get("_defects", ()):
            line = line[: len(line) // 2]  # a record cut off mid-write
        lines.append(line + b"\n")
    return b"".join(lines)


def _xml(source: str, rows: list[dict]) -> bytes:
    root = ET.Element("brands")
    for r in rows:
        brand = ET.SubElement(root, "brand")
        for k, v in _public(source, r).items():
            ET.SubElement(brand, k).text = "" if v is None else str(v)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


class Landing:
    def __init__(self, cfg: GeneratorConfig) -> None:
        self.cfg, self.root = cfg, Path(cfg.out)
        self.stats: dict[str, dict[str, int]] = defaultdict(lambda: {"files": 0, "rows": 0, "bytes": 0})
        self.manifest: list[dict] = []

    def write(self, source: str, stamp: str, rows: list[dict], closed_at: int, may_be_late: bool = False) -> None:
        rel = path_for(source, stamp)
        rng = self.cfg.rng(STREAM_DEFECTS, zlib.crc32(rel.encode()))
        mtime = closed_at
        if self.cfg.defects and may_be_late and rng.random() < self.cfg.defects:
            delay = int(rng.integers(2, 31))
            mtime = closed_at + delay * 3600
            self.manifest.append({"kind": "late_file", "source": source, "file": rel, "delay_hours": delay})
        rows = plant(source, rows, self.cfg.defects, rng)
        fmt = SOURCES[source].fmt
        if fmt == "csv":
            payload, first_line = _csv(source, rows), 2
        elif fmt == "jsonl":
            payload, first_line = _jsonl(source, rows), 1
        elif fmt == "json":
            payload, first_line = orjson.dumps([_public(source, r) for r in rows], option=orjson.OPT_INDENT_2), None
        else:
            payload, first_line = _xml(source, rows), None
        self._record_defects(source, rel, rows, first_line)
        self._atomic_write(self.root / rel, payload, mtime)
        tally = self.stats[source]
        tally["files"] += 1
        tally["rows"] += len(rows)
        tally["bytes"] += len(payload)

    def _record_defects(self, source: str, rel: str, rows: list[dict], first_line: int | None) -> None:
        key = SOURCES[source].key
        for i, r in enumerate(rows):
            for kind, column in r.get("_defects", ()):
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
