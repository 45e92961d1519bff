"""Parse one landing file into typed records and rejects, whatever the warehouse.

Two levels of failure, as the spec's error-handling strategy asks:
- a record that cannot be read or typed (malformed JSON, wrong field count,
  bad date, missing key) is rejected with its line and a reason;
- a file that cannot be read at all (not UTF-8, not well-formed XML, not a
  JSON array, a CSV header missing a documented column) fails as a whole.
Values that are readable but wrong (unknown enums, negative amounts) load:
finding those is the quality checks' job, not the loader's. A number that is not finite
(NaN, Infinity, 1e999) is not readable as an amount: it is rejected, as it would turn
every sum downstream into NaN or infinity.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import orjson

from landing import Source


class UnreadableFile(Exception):
    """The file as a whole cannot be parsed; nothing in it is loaded."""


@dataclass
class ParsedFile:
    rel: str
    sha256: str
    size: int
    modified_at: dt.datetime
    rows: list[tuple[int, tuple]] = field(default_factory=list)  # (line, values in column order)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (line, raw record, reason)
    error: str | None = None

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.rejects)


def _timestamp(value: str) -> dt.datetime:
    ts = dt.datetime.fromisoformat(value)
    return ts.astimezone(dt.UTC).replace(tzinfo=None) if ts.tzinfo else ts


INTEGER_RANGE = range(-(2**31), 2**31)  # what an `integer` column holds, in DuckDB and in PostgreSQL


def _integer(value: str | int | float) -> int:
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("not a whole number")
    if int(value) not in INTEGER_RANGE:  # it would fail the insert of every row beside it
        raise ValueError("out of range")
    return int(value)


def _double(value: str | int | float) -> float:
    number = float(value)  # float() takes "NaN", "inf" and 1e999 (infinity): none is an amount or a price
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _text(value: str | int | float) -> str:
    text = str(value)
    if "\x00" in text:  # PostgreSQL's text cannot hold it (the whole batch's COPY would fail), nor can most tools
        raise ValueError("NUL character")
    return text


CASTS = {
    "varchar": _text,
    "integer": _integer,
    "double": _double,
    "date": dt.date.fromisoformat,
    "timestamp": _timestamp,
}


def typed(source: Source, record: dict) -> tuple[tuple | None, str | None]:
    """(values in column order, None) or (None, reason)."""
    if not record.get(source.key):
        return None, f"missing {source.key}"
    values = []
    for column, kind in source.columns.items():
        value = record.get(column)
        if value is None or value == "":
            values.append(None)
            continue
        if isinstance(value, (dict, list, bool)):
            return None, f"unexpected {type(value).__name__} in {column}"
        try:
            values.append(CASTS[kind](value))
        except (ValueError, TypeError):
            return None, f"bad {kind} in {column}: {str(value)[:60]!r}"
    return tuple(values), None


def _jsonl(source: Source, data: bytes, out: ParsedFile) -> None:
    for i, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            out.rejects.append((i, line.decode("utf-8", "replace"), f"malformed JSON: {err}"))
            continue
        _add(source, record if isinstance(record, dict) else {}, i, line.decode(), out)


def _csv(source: Source, data: bytes, out: ParsedFile) -> None:
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    header = next(reader, None) or []
    missing = [c for c in source.columns if c not in header]
    if missing:
        raise UnreadableFile(f"CSV header is missing column(s): {', '.join(missing)}")
    for i, fields in enumerate(reader, start=2):
        raw = ",".join(fields)
        if len(fields) != len(header):
            out.rejects.append((i, raw, f"expected {len(header)} fields, got {len(fields)}"))
            continue
        _add(source, dict(zip(header, fields, strict=True)), i, raw, out)


def _json_array(source: Source, data: bytes, out: ParsedFile) -> None:
    try:
        records = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise UnreadableFile(f"not valid JSON: {err}") from err
    if not isinstance(records, list):
        raise UnreadableFile("expected a JSON array of records")
    for i, record in enumerate(records):
        _add(source, record if isinstance(record, dict) else {}, i, orjson.dumps(record).decode(), out)


def _xml(source: Source, data: bytes, out: ParsedFile) -> None:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise UnreadableFile(f"not well-formed XML: {err}") from err
    for i, element in enumerate(root):
        record = {child.tag: child.text for child in element}
        _add(source, record, i, ET.tostring(element, encoding="unicode").strip(), out)


def _add(source: Source, record: dict, line: int, raw: str, out: ParsedFile) -> None:
    values, reason = typed(source, record)
    if reason:
        out.rejects.append((line, raw, reason))
    else:
        out.rows.append((line, values))


PARSERS = {"jsonl": _jsonl, "csv": _csv, "json": _json_array, "xml": _xml}


def parse_file(source: Source, rel: str, data: bytes, digest: str, modified_at: dt.datetime) -> ParsedFile:
    """Parse a file's bytes; the caller has read and hashed them once already."""
    out = ParsedFile(rel=rel, sha256=digest, size=len(data), modified_at=modified_at)
    try:
        PARSERS[source.fmt](source, data, out)
    except UnicodeDecodeError as err:
        out.error = f"{rel}: not UTF-8 text ({err})"
    except UnreadableFile as err:
        out.error = f"{rel}: {err}"
    if out.error:
        out.rows, out.rejects = [], []
    return out


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
