"""The fast path for JSON lines: Arrow's JSON reader, for the files it can read whole, typed by parse.py's rules.

Arrow's reader (C++, on every core) parses a batch of JSON lines about four times faster than bulk.py's exact
path, which splits the lines and transforms each one in DuckDB. But it is strict: a line that is not a JSON
object, a value of another JSON type than its column's (text where a number is expected, a boolean, a nested
object), a repeated key or a line that is not JSON at all fails the whole call. So it only reads what it can
read whole, and bulk.py's exact path takes the rest, with the reasons of its rejects:
- the batch in one call; if Arrow refuses it, file by file (files of 256 KiB or more: a call has its cost);
  a file it refuses, or too small to try alone, goes to the exact path;
- a file is taken only if Arrow's rows are its lines one for one (a blank line, which Arrow skips, would
  shift the line number of every record after it), and if it has no escaped surrogate (a \\uD800-\\uDFFF
  escape), which Arrow and orjson need not read alike;
- what Arrow read is then typed by parse.py's rules (`select_typed`, in DuckDB): text "" is null, text with a
  NUL is not readable, an integer must fit its column, dates and timestamps are parsed from their text by
  bulk.py's rules; a row that fails goes, as its raw line, to parse.typed (bulk.py's odd rows), which
  gives it its reason or its values.
tests/ingest/test_bulk.py compares the result with parse.py's, record by record, on both paths.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.json as pj

from landing import Source

# A column's values as Arrow reads them: text for dates and timestamps, typed by SQL afterwards
ARROW_IN = {"varchar": pa.string(), "date": pa.string(), "timestamp": pa.string(), "integer": pa.int64(),
            "double": pa.float64()}  # fmt: skip
SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
BLOCK_BYTES = 4 * 2**20  # Arrow parses blocks in parallel: a 64 MB batch gives each core several
# A file smaller than this is not tried alone when its batch was refused: a call costs ~0.5 ms, so the
# shop's many small order files (33k at 10k customers) would cost more tried one by one than on the exact path
ALONE_BYTES = 256 * 2**10


@dataclass
class FastRead:
    table: pa.Table  # the source's columns as Arrow read them, then _source_file and _line
    taken: dict[str, bytes] = field(default_factory=dict)  # the files read here, by name (for raw lines)
    rest: list = field(default_factory=list)  # the files (bulk.FileIn) for the exact path


def _lines(data: bytes) -> int:
    """Lines as parse.py splits them: one more than the newlines, unless the file ends with one."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _schema(source: Source) -> pa.Schema:
    return pa.schema([(c, ARROW_IN[k]) for c, k in source.columns.items()])


def _read(source: Source, datas: list[bytes]) -> pa.Table | None:
    options = pj.ParseOptions(explicit_schema=_schema(source), unexpected_field_behavior="ignore")
    blob = b"".join(d if d.endswith(b"\n") else d + b"\n" for d in datas if d)
    try:
        table = pj.read_json(io.BytesIO(blob), read_options=pj.ReadOptions(block_size=BLOCK_BYTES),
                             parse_options=options)  # fmt: skip
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table.select(list(source.columns))


def read_fast(source: Source, files: list) -> FastRead:
    """Read the files Arrow takes whole (the batch at once, else one by one); the others are left for the exact path."""
    candidates, rest = [], []
    for f in files:
        (rest if SURROGATE.search(f.data) else candidates).append(f)
    counts = [_lines(f.data) for f in candidates]
    table = _read(source, [f.data for f in candidates]) if candidates else None
    if table is not None and table.num_rows == sum(counts):
        taken = candidates
    else:  # one file or more is not for Arrow: find which, among the files worth a call of their own
        taken, tables, counts_taken = [], [], []
        for f, n in zip(candidates, counts, strict=True):
            one = _read(source, [f.data]) if len(f.data) >= ALONE_BYTES else None
            if one is not None and one.num_rows == n:
                taken.append(f)
                tables.append(one)
                counts_taken.append(n)
            else:
                rest.append(f)
        counts = counts_taken
        table = pa.concat_tables(tables) if tables else None
    if table is None:
        table = _schema(source).empty_table()
    lengths = np.array(counts, dtype=np.int64)
    which = np.repeat(np.arange(len(taken)), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    lines = np.arange(len(which), dtype=np.int64) - starts + 1
    names = pa.array([f.rel for f in taken], pa.string()).take(pa.array(which, pa.int64()))
    table = table.append_column("_source_file", names).append_column("_line", pa.array(lines, pa.int64()))
    return FastRead(table, {f.rel: f.data for f in taken}, rest)


def raw_lines(read: FastRead, wanted: list[tuple[str, int]]) -> list[tuple[str, int, str]]:
    """(file, line, raw record) of the wanted rows, from the files' bytes."""
    split: dict[str, list[bytes]] = {}
    out = []
    for rel, line in sorted(wanted):
        if rel not in split:  # each file split once (setdefault would split it again for every row)
            split[rel] = read.taken[rel].split(b"\n")
        lines = split[rel]
        out.append((rel, line, lines[line - 1].decode()))
    return out


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def select_typed(source: Source, relation: str, from_text: dict) -> str:
    """Typed columns, _source_file, _line and an `_ok` flag over what Arrow read (`relation`).

    `from_text[kind](sql)` is bulk.py's SQL for a date or a timestamp from its text (the exact path's rules).
    """
    values, bad = [], []
    for column, kind in source.columns.items():
        c = _q(column)
        if kind == "varchar":
            value, wrong = f"nullif({c}, '')", f"contains({c}, chr(0))"
        elif kind == "integer":
            fits = f"{c} between {-(2**31)} and {2**31 - 1}"
            value, wrong = f"case when {fits} then cast({c} as integer) end", f"not ({fits})"
        elif kind == "double":  # Arrow reads 1e999 as no number at all; the check is parse.py's all the same
            value, wrong = f"case when isfinite({c}) then {c} end", f"not isfinite({c})"
        elif kind in from_text:
            text = f"nullif({c}, '')"
            value = from_text[kind](text)
            wrong = f"{text} is not null and ({value}) is null"
        else:
            raise ValueError(f"unknown column type {kind!r}")
        values.append(f"{value} as {c}")
        bad.append(f"coalesce({wrong}, false)")
    key = f"nullif({_q(source.key)}, '')"
    return f"""
        select {", ".join(values)}, _source_file, _line,
            {key} is not null and not ({" or ".join(bad)}) as _ok
        from {relation}
    """
