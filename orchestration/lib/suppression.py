"""Erased customers stay erased: their records in a landing file become rejects that keep no personal data
(governance/erasure.py keeps their hashed keys)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from governance.erasure import ERASED, SOURCE_KEYS, key_hash
from landing import Source


@dataclass(frozen=True)
class Suppression:
    """The hashed keys of erased customers (governance/erasure.py) and the salt they were hashed with."""

    hashes: frozenset[str]
    salt: str


TOKEN = re.compile(r"[A-Za-z0-9_.@+\-]+")


SUPPRESSED = "suppressed: the record of an erased customer"


def set_aside_erased(source: Source, rows: pa.Table, rejects: list[tuple], s: Suppression) -> tuple[pa.Table, list]:
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
