"""Parse JSON-lines and CSV landing files in bulk, inside DuckDB, with the rules and rejects of parse.py.

JSON lines take the fast path first (arrow_json.py: Arrow's reader, for the files it can read whole); the
files it leaves, and every CSV file, take the exact path described here.
DuckDB splits a batch of files into lines, validates the JSON and types every field with `try_cast`,
in one statement per batch, on an in-memory connection (whatever the warehouse). Python only decodes
the bytes (and, for CSV, splits the fields with the C `csv` module). A row that DuckDB cannot type goes
to `parse.typed`, the one definition of the rules: it gives the reject its reason (or, for the odd value
DuckDB is stricter about, its typed values). So the rejects, and their reasons, are the record-by-record
parser's (tests/ingest/test_bulk.py compares the two on planted defects).

Memory is bounded by the batch: load.py hands over at most CHUNK_BYTES of files at a time.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import threading
from dataclasses import dataclass, field

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from c360_core.warehouse import ARROW_TYPES
from landing import Source
from orchestration.lib.arrow_json import raw_lines, read_fast, select_typed
from orchestration.lib.parse import parse_file, typed

BULK_FORMATS = ("jsonl", "csv")
WHITESPACE = " \t\r\n\x0b\x0c"  # what bytes.strip() removes: a blank line is skipped, as before


@dataclass
class FileIn:
    rel: str
    data: bytes


@dataclass
class BulkParsed:
    """Typed rows of a batch (source columns, then _source_file and _line), rejects and per-file counts."""

    rows: pa.Table
    rejects: list[tuple[str, int, str, str]] = field(default_factory=list)  # (file, line, record, reason)
    loaded: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # file -> why nothing in it loads


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _date(text: str) -> str:
    """ISO dates only, as date.fromisoformat (DuckDB alone would take 2020-1-5)."""
    return f"case when regexp_full_match({text}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') then try_cast({text} as date) end"


def _timestamp(text: str) -> str:
    """Offsets become UTC (the session's zone); naive times are UTC already."""
    return (f"case when regexp_matches({text}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}([T ]|$)') "
            f"then try_cast({text} as timestamptz)::timestamp end")  # fmt: skip


FROM_TEXT = {"date": _date, "timestamp": _timestamp}  # a value's SQL from its text, on both paths


def _typed_column(column: str, kind: str) -> tuple[str, str, str]:
    """(SQL value, SQL "the field is empty", SQL "the field is not an object, array or boolean").

    Over the relation `prep`, which has each field's JSON type ("t:<column>") and text ("x:<column>").
    """
    t, txt = _q(f"t:{column}"), _q(f"x:{column}")
    null = f"({t} is null or {t} = 'NULL' or ({t} = 'VARCHAR' and {txt} = ''))"
    number, text = f"{t} in ('BIGINT', 'UBIGINT', 'DOUBLE')", f"{t} = 'VARCHAR'"
    shape_ok = f"coalesce({t} not in ('OBJECT', 'ARRAY', 'BOOLEAN'), true)"
    if kind == "varchar":  # no NUL character (parse.py)
        value = f"case when not contains({txt}, chr(0)) then {txt} end"
    elif kind == "integer":  # a whole number in the column's range, or text that is one (parse.py: int())
        value = (f"case when {number} then (case when try_cast({txt} as double) = trunc(try_cast({txt} as double)) "
                 f"then try_cast(try_cast({txt} as double) as integer) end) "
                 f"when {text} and regexp_full_match({txt}, '\\s*[+-]?[0-9]+\\s*') "
                 f"then try_cast(trim({txt}) as integer) end")  # fmt: skip
    elif kind == "double":  # finite only (parse.py): DuckDB reads NaN, inf and 1e999, even in JSON
        as_double = f"try_cast(trim({txt}) as double)"
        value = f"case when ({number} or {text}) and isfinite({as_double}) then {as_double} end"
    elif kind in FROM_TEXT:
        value = f"case when {text} then {FROM_TEXT[kind](txt)} end"
    else:
        raise ValueError(f"unknown column type {kind!r}")
    return f"case when {null} then null else {value} end", null, shape_ok


def _select(source: Source) -> str:
    """Typed columns and an `_ok` flag over `prep` (file, line, valid, each field's type and text; for CSV, f)."""
    parts = {c: _typed_column(c, k) for c, k in source.columns.items()}
    inner = ", ".join(
        f"{v} as {_q(c)}, {n} as {_q('n:' + c)}, {sh} as {_q('s:' + c)}" for c, (v, n, sh) in parts.items()
    )
    oks = " and ".join(f"({_q('n:' + c)} or ({_q('s:' + c)} and {_q(c)} is not null))" for c in source.columns)
    return f"""
        select *, coalesce(valid and {_q(source.key)} is not null and {oks}, false) as _ok
        from (select file as _source_file, line as _line, valid, {inner} from prep)
    """


# A JSON value's type from its first character (json_transform writes each value compactly): per field,
# json_type and json_extract_string parsed every value again, and took two thirds of the typing.
_JSON_TYPE = """case when {v} is null then null else case left({v}::varchar, 1) when '"' then 'VARCHAR'
    when '{{' then 'OBJECT' when '[' then 'ARRAY' when 't' then 'BOOLEAN' when 'f' then 'BOOLEAN'
    when 'n' then 'NULL' else 'DOUBLE' end end"""


def _prepare(con, source: Source, json_mode: bool) -> None:
    """`prep`: each field's JSON type and text (CSV fields are all text)."""
    cols = []
    for c in source.columns:
        ref = f"f.{_q(c)}"
        if json_mode:  # the type from the field as JSON (f), its text from the field as text (g)
            cols += [f"{_JSON_TYPE.format(v=ref)} as {_q('t:' + c)}", f"g.{_q(c)} as {_q('x:' + c)}"]
        else:
            cols += [f"case when {ref} is not null then 'VARCHAR' end as {_q('t:' + c)}", f"{ref} as {_q('x:' + c)}"]
    # A view, as `fields` is: the typing refers to each type and text several times, and DuckDB still
    # computes each once, in one streaming pass from the lines to the typed rows. Materializing `fields` and
    # `prep` as tables copied every line twice more: a year of web events at 10k parsed in 8.1 s, now 5.2 s.
    con.execute(f"create or replace temp view prep as select file, line, valid, {', '.join(cols)} from fields")


_local = threading.local()


def connection() -> duckdb.DuckDBPyConnection:
    """An in-memory connection per parsing thread, kept (opening one takes ~20 ms, twice a chunk's typing);
    keys.py computes a chunk's look-up keys on it too."""
    if getattr(_local, "con", None) is None:
        _local.con = duckdb.connect()
        _local.con.execute("set TimeZone = 'UTC'")
    return _local.con


def _release(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what a batch left on the thread's connection (its lines and Arrow tables), so memory goes with it."""
    for name in ("_contents", "_fast", "_bad", "fields"):
        with contextlib.suppress(duckdb.Error):
            con.unregister(name)
    con.execute("drop view if exists prep; drop view if exists fields; drop table if exists lines")


def _jsonl_fields(con, source: Source, texts: pa.Table) -> None:
    as_json = orjson.dumps({c: "JSON" for c in source.columns}).decode().replace("'", "''")
    as_text = orjson.dumps({c: "VARCHAR" for c in source.columns}).decode().replace("'", "''")
    con.register("_contents", texts)
    ws = WHITESPACE.replace("'", "''")
    # unnesting runs on one thread: the lines first, so the JSON parsing that follows uses every core
    con.execute("""
        create or replace temp table lines as
        select file, generate_subscripts(parts, 1) as line, unnest(parts) as raw
        from (select file, string_split(content, chr(10)) as parts from _contents)
    """)
    # Nearly every line starts with "{": a CASE tests that first, and trims (slow with a set of characters:
    # 2/3 of this statement's time at 100k) only the rest. A CASE, as DuckDB evaluates both sides of an OR.
    object_like = f"(case when starts_with(raw, '{{') then true else left(ltrim(raw, '{ws}'), 1) = '{{' end)"
    not_blank = f"(case when starts_with(raw, '{{') then true else trim(raw, '{ws}') <> '' end)"
    # a view: `prep` reads it once (DuckDB parses each line once there, however many fields it takes),
    # and a rejected row's raw record is read from `lines`
    con.execute(f"""
        create or replace temp view fields as
        select file, line, f is not null as valid, f, g
        from (
            select file, line, case when ok then json_transform(raw, '{as_json}') end as f,
                case when ok then json_transform(raw, '{as_text}') end as g
            from (select file, line, raw, {object_like} and json_valid(raw) as ok from lines where {not_blank})
        )
    """)  # fmt: skip


def _csv_fields(con, source: Source, files: list[FileIn], texts: dict[str, str], out: BulkParsed) -> None:
    """Fields split by the csv module (quoting rules), typed in DuckDB. Line numbers as parse.py counts them."""
    cols: dict[str, list] = {c: [] for c in source.columns}
    meta: dict[str, list] = {"file": [], "line": [], "raw": []}
    for f in files:
        if f.rel not in texts:
            continue
        reader = csv.reader(io.StringIO(texts[f.rel]))
        header = next(reader, None) or []
        missing = [c for c in source.columns if c not in header]
        if missing:
            out.errors[f.rel] = f"{f.rel}: CSV header is missing column(s): {', '.join(missing)}"
            continue
        positions = [header.index(c) for c in source.columns]
        for i, fields in enumerate(reader, start=2):
            raw = ",".join(fields)
            if len(fields) != len(header):
                out.rejects.append((f.rel, i, raw, f"expected {len(header)} fields, got {len(fields)}"))
                continue
            meta["file"].append(f.rel)
            meta["line"].append(i)
            meta["raw"].append(raw)
            for c, p in zip(source.columns, positions, strict=True):
                cols[c].append(fields[p])
    arrays = {"file": pa.array(meta["file"], pa.string()), "line": pa.array(meta["line"], pa.int64()),
              "raw": pa.array(meta["raw"], pa.string())}  # fmt: skip
    struct = pa.StructArray.from_arrays([pa.array(v, pa.string()) for v in cols.values()], names=list(cols))
    table = pa.table({**arrays, "valid": pa.array([True] * len(meta["file"]), pa.bool_()), "f": struct})
    con.register("fields", table)


def _record(source: Source, raw: str, fields: dict | None) -> tuple[tuple | None, str | None]:
    """parse.py's verdict on one record (the rows DuckDB could not type); CSV rows come as their fields."""
    if source.fmt == "csv":
        return typed(source, fields)
    try:
        record = orjson.loads(raw.encode())
    except orjson.JSONDecodeError as err:
        return None, f"malformed JSON: {err}"
    return typed(source, record if isinstance(record, dict) else {})


def _binary(datas: list[bytes]) -> pa.LargeBinaryArray:
    """The files' bytes as one Arrow array: one join and the offsets (pa.array copies item by item, 5x slower)."""
    offsets = np.zeros(len(datas) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in datas], out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(datas))]
    return pa.Array.from_buffers(pa.large_binary(), len(datas), buffers)


def _utf8(files: list[FileIn]) -> list[FileIn]:
    """The files that are UTF-8 (as bytes.decode has it): ASCII at once (bytes.isascii reads without copying),
    the others checked by Arrow."""
    good = []
    for f in files:
        if f.data.isascii():
            good.append(f)
        else:
            with contextlib.suppress(pa.ArrowInvalid):
                _binary([f.data]).cast(pa.large_string())
                good.append(f)
    return good


def _raw_records(con, bad: pa.Table, json_mode: bool) -> list[tuple]:
    """(file, line, raw record, CSV fields) of the rows the typing did not take."""
    if not bad.num_rows:
        return []
    con.register("_bad", bad.select(["_source_file", "_line"]))
    relation, fields = ("lines", "null") if json_mode else ("fields", "f")
    return con.sql(f"""
        select file, line, raw, {fields} from {relation}
        semi join _bad on file = _bad._source_file and line = _bad._line
        order by file, line
    """).fetchall()


def _exact(con, source: Source, files: list[FileIn], named: tuple[list[str], pa.Array], out: BulkParsed) -> pa.Table:
    """The exact path over the named files (`named`: their names and their text): typed rows and `_ok`."""
    names, texts = named
    if source.fmt == "jsonl":
        _jsonl_fields(con, source, pa.table({"file": pa.array(names, pa.string()), "content": texts}))
    else:
        _csv_fields(con, source, files, dict(zip(names, texts.to_pylist(), strict=True)), out)
    _prepare(con, source, source.fmt == "jsonl")
    columns = [*source.columns, "_source_file", "_line"]
    # one streaming pass from the lines to the typed rows with their verdict
    return con.sql(f"select {', '.join(map(_q, columns))}, _ok from ({_select(source)})").to_arrow_table()


def parse_batch(source: Source, files: list[FileIn]) -> BulkParsed:
    """Type a batch of one source's files; a file that cannot be read at all lands in `errors`."""
    if source.fmt not in BULK_FORMATS:
        raise ValueError(f"{source.name}: {source.fmt} files are parsed record by record (parse.py)")
    out = BulkParsed(rows=pa.table({}))
    rescued: list[tuple] = []  # rows parse.py types: from files that are not UTF-8, and DuckDB's odd rows
    readable = _utf8(files)
    utf8 = {f.rel for f in readable}
    for f in files:
        if f.rel not in utf8:  # rare: parse.py has the rules for it (line by line, or the whole file)
            ref = parse_file(source, f.rel, f.data, "", dt.datetime.min)
            if ref.error:
                out.errors[f.rel] = ref.error
            rescued += [(*values, f.rel, line) for line, values in ref.rows]
            out.rejects += [(f.rel, line, raw, reason) for line, raw, reason in ref.rejects]
    json_mode = source.fmt == "jsonl"
    fast = read_fast(source, readable) if json_mode else None
    exact = fast.rest if fast else readable  # the files for the exact path
    columns = [*source.columns, "_source_file", "_line"]
    results, odd = [], []  # typed rows with their verdict; the raw records of the rows it did not take
    con = connection()
    try:
        if exact:
            texts = _binary([f.data for f in exact]).cast(pa.large_string())
            result = _exact(con, source, files, ([f.rel for f in exact], texts), out)
            results.append(result)
            odd += _raw_records(con, result.filter(pc.invert(result.column("_ok"))), json_mode)
        if fast and fast.table.num_rows:
            con.register("_fast", fast.table)
            result = con.sql(select_typed(source, "_fast", FROM_TEXT)).to_arrow_table()
            results.append(result)
            bad = result.filter(pc.invert(result.column("_ok"))).select(["_source_file", "_line"]).to_pylist()
            odd += [(*raw, None) for raw in raw_lines(fast, [(r["_source_file"], r["_line"]) for r in bad])]
    finally:
        _release(con)
    schema = pa.schema([(c, ARROW_TYPES[k]) for c, k in source.columns.items()]
                       + [("_source_file", pa.string()), ("_line", pa.int64())])  # fmt: skip
    rows = pa.concat_tables(
        [r.filter(r.column("_ok")).select(columns).rename_columns(columns).cast(schema) for r in results]
    ) if results else schema.empty_table()  # fmt: skip
    for rel, line, raw, fields in odd:
        values, reason = _record(source, raw, fields)
        if reason:
            out.rejects.append((rel, line, raw, reason))
        else:  # DuckDB was stricter than the rules: the record loads with parse.py's values
            rescued.append((*values, rel, line))
    if rescued:
        extra = pa.Table.from_pylist([dict(zip(columns, r, strict=True)) for r in rescued], schema=schema)
        rows = pa.concat_tables([rows, extra])
    out.rows = rows
    out.loaded = {c["values"]: c["counts"] for c in pc.value_counts(rows.column("_source_file")).to_pylist()}
    for rel, *_ in out.rejects:
        out.rejected[rel] = out.rejected.get(rel, 0) + 1
    return out
