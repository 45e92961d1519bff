"""The bulk parser (DuckDB) gives exactly the rows and rejects of the record-by-record parser (parse.py).

Both run over the generated landing zone with its planted defects, and over hand-written records that
probe the edges of the rules: values of the wrong JSON type, offsets, blank and CRLF lines, not-quite
numbers and dates, a file that is not UTF-8 and a CSV header without a documented column.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from landing import SOURCES
from orchestration.lib import arrow_json
from orchestration.lib.arrow_json import read_fast
from orchestration.lib.bulk import BULK_FORMATS, FileIn, parse_batch
from orchestration.lib.parse import parse_file
from simulator.config import GeneratorConfig
from simulator.generate import generate


def reference(source, files: list[FileIn]) -> tuple[list, list, dict]:
    rows, rejects, errors = [], [], {}
    for f in files:
        parsed = parse_file(source, f.rel, f.data, "-", dt.datetime(2026, 1, 1))
        if parsed.error:
            errors[f.rel] = parsed.error
        rows += [(*values, f.rel, line) for line, values in parsed.rows]
        rejects += [(f.rel, line, raw, reason) for line, raw, reason in parsed.rejects]
    return rows, rejects, errors


def bulk(source, files: list[FileIn]) -> tuple[list, list, dict]:
    out = parse_batch(source, files)
    rows = [tuple(r.values()) for r in out.rows.to_pylist()]
    assert sum(out.loaded.values()) == len(rows) and sum(out.rejected.values()) == len(out.rejects)
    return rows, out.rejects, out.errors


def same(source, files: list[FileIn]) -> tuple[list, list]:
    want_rows, want_rejects, want_errors = reference(source, files)
    got_rows, got_rejects, got_errors = bulk(source, files)
    order = lambda r: (r[-2], r[-1])  # noqa: E731 - by file and line
    assert sorted(got_rows, key=order) == sorted(want_rows, key=order)
    assert sorted(got_rejects) == sorted(want_rejects)
    assert got_errors == want_errors
    return want_rows, want_rejects


@pytest.fixture(scope="module")
def defective(tmp_path_factory) -> Path:
    """A small landing zone with many planted defects (malformed lines, bad enums, ...)."""
    root = tmp_path_factory.mktemp("defective") / "landing"
    generate(GeneratorConfig(customers=200, seed=5, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 10), out=root,
                             defects=0.05, quiet=True))  # fmt: skip
    return root


@pytest.mark.parametrize("name", [n for n, s in SOURCES.items() if s.fmt in BULK_FORMATS])
def test_bulk_equals_record_by_record_on_the_landing_zone(defective, name):
    source = SOURCES[name]
    files = [FileIn(str(p.relative_to(defective)), p.read_bytes()) for p in sorted(defective.glob(source.pattern))]
    rows, rejects = same(source, files)
    assert rows, name
    if name in ("orders", "web_events"):  # the simulator plants malformed lines in these
        assert any(reason.startswith("malformed JSON") for *_, reason in rejects)


EVENT = {"activity_uuid": "a1", "session_id": "s", "anonymous_id": "x", "entity_id": None,
         "visit_start_ts": "2026-01-01T05:00:00Z", "activity_ts": "2026-01-01T05:00:01Z", "event_action": "page_view",
         "product_sku": None, "quantity": 2, "order_value": 10.5, "transaction_id": None, "traffic_channel": "Direct",
         "traffic_source": "direct", "occurrence": 1}  # fmt: skip
ODD_EVENTS = [
    {},  # every field missing: no key
    {"activity_uuid": ""},  # an empty key
    {"quantity": 2.0},  # a whole float is an integer
    {"quantity": 2.5},  # not a whole number
    {"quantity": "3"},  # text that is an integer
    {"quantity": "3.0"},  # text that is not
    {"quantity": True},  # a boolean
    {"order_value": "12.25"},
    {"order_value": "twelve"},
    {"session_id": {"nested": 1}},
    {"session_id": [1, 2]},
    {"session_id": 42},  # a number where text is expected: its text
    {"activity_ts": "2026-01-01T07:00:00+02:00"},  # an offset becomes UTC
    {"activity_ts": "2026-01-01 05:00:00"},
    {"activity_ts": "2026-01-01"},
    {"activity_ts": "2026-13-01T00:00:00Z"},
    {"activity_ts": "yesterday"},
    {"activity_ts": 1767243600},
    {"event_action": "tab\\there"},  # an escape inside a string
    {"event_action": 'caf\u00e9 \U0001f600 "q" \u0001'},  # escaped non-ASCII, a surrogate pair, quotes
    {"session_id": 1.5},
    {"session_id": 1e5},
    {"session_id": False},
    {"session_id": ""},  # text columns
    {"quantity": 2147483647},
    {"quantity": -2147483648},  # the integer column's bounds
    {"quantity": 2147483648},
    {"quantity": "3000000000"},
    {"quantity": 10**20},  # past them: a reject, not a crash
    {"quantity": "  4 "},
    {"occurrence": 3.0},
    {"order_value": 12},
    {"order_value": 1e-7},
]


def test_bulk_equals_record_by_record_on_the_edges():
    source = SOURCES["web_events"]
    lines = [json.dumps({**EVENT, "activity_uuid": f"e{i}", **odd}) for i, odd in enumerate(ODD_EVENTS)]
    crlf = json.dumps({**EVENT, "activity_uuid": "crlf"}) + "\r"
    lines += [
        "",
        "   ",
        "[1, 2]",
        "42",
        '{"activity_uuid": "cut',
        crlf,
        '{ "activity_uuid" : "spaced" , "quantity" : 2 , "session_id" : -0 }',
        '{"activity_uuid": "e", "quantity": 1E2}',
    ]
    files = [FileIn("web/a.jsonl", "\n".join(lines).encode()), FileIn("web/b.jsonl", b"\xff\xfe not utf-8")]
    rows, rejects = same(source, files)
    assert len(rows) + len(rejects) == len(lines) - 2 + 1  # two blank lines are not records; b has one line
    assert {r[-1] for r in rows} >= {1, 3, 5}  # the whole float, the integer text, ...
    out_of_range = {i + 1 for i, odd in enumerate(ODD_EVENTS) if int(float(odd.get("quantity", 0))) >= 2**31}
    assert {line for _, line, _, reason in rejects if reason.startswith("bad integer")} >= out_of_range

    csv_source = SOURCES["transactions"]
    header = ",".join(csv_source.columns)
    body = [header, "T1,O1,10.5,Card,2026-01-01T00:00:00Z", 'T2,"O,2",1,Card,2026-01-01', "T3,O3,abc,Card,",
            "T4,O4,1,Card", ",O5,1,Card,2026-01-01", 'T6,"O6\nmore",2,Card,2026-01-01T00:00:00+01:00']  # fmt: skip
    csv_files = [FileIn("t/a.csv", "\n".join(body).encode()), FileIn("t/b.csv", b"transaction_id,amount\nT1,1\n")]
    rows, rejects = same(csv_source, csv_files)
    assert len(rows) == 3 and len(rejects) == 3


def test_the_arrow_fast_path_gives_the_same_rows_and_rejects_file_by_file(monkeypatch):
    """Each edge in a file of its own: Arrow reads the files whose JSON types fit (then parse.py's rules type
    them: an empty key, an integer past the column, a date that is no date), and leaves the others to the
    exact path; together, exactly parse.py's rows and rejects."""
    source = SOURCES["web_events"]
    lines = [json.dumps({**EVENT, "activity_uuid": f"e{i}", **odd}) for i, odd in enumerate(ODD_EVENTS)]
    pair = json.dumps({**EVENT, "activity_uuid": "pair", "event_action": "\U0001f600"}, ensure_ascii=True)
    lines += [json.dumps({**EVENT, "activity_uuid": "nul", "session_id": "a\u0000b"}), pair]  # escaped surrogates
    files = [FileIn(f"web/{i}.jsonl", (line + "\n").encode()) for i, line in enumerate(lines)]
    files.append(FileIn("web/blank.jsonl", f"{lines[0]}\n\n{lines[1]}\n".encode()))  # a blank line: exact path
    assert not read_fast(source, files).taken  # a refused batch of small files: all on the exact path
    monkeypatch.setattr(arrow_json, "ALONE_BYTES", 0)  # as files of 256 KiB or more are: each tried alone
    fast = read_fast(source, files)
    taken = set(fast.taken)
    assert "web/0.jsonl" in taken and "web/1.jsonl" in taken  # the plain event, and the empty key Arrow reads
    assert "web/4.jsonl" not in taken and "web/blank.jsonl" not in taken  # text for a number; the blank line
    assert f"web/{len(lines) - 1}.jsonl" not in taken and "\\ud83d" in pair  # escaped surrogates: the exact path's
    rows, rejects = same(source, files)
    assert len(rows) + len(rejects) == len(lines) + 2
    assert {r[0] for r in rejects} & taken  # some of the rejects come from files Arrow read
    assert ("\U0001f600", f"web/{len(lines) - 1}.jsonl") in {(r[6], r[-2]) for r in rows}


def test_the_arrow_fast_path_reads_a_clean_zone_whole_and_exactly(tmp_path):
    root = tmp_path / "landing"
    generate(GeneratorConfig(customers=150, seed=11, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 3), out=root,
                             quiet=True))  # fmt: skip
    for name in ("web_events", "orders"):
        source = SOURCES[name]
        files = [FileIn(str(p.relative_to(root)), p.read_bytes()) for p in sorted(root.glob(source.pattern))]
        assert not read_fast(source, files).rest, name  # every file on the fast path
        rows, rejects = same(source, files)
        assert rows and not rejects, name
