"""Loading is idempotent, bad input is set aside with reasons, and failures leave no partial files."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from c360_core.settings import settings
from c360_core.warehouse import connect
from landing import SOURCES
from orchestration.lib import load, reading
from orchestration.lib.load import load_source
from tests.support.warehouse import env


def load_all(cfg) -> dict:
    with connect(cfg) as wh:
        return {name: load_source(wh, source, cfg.landing) for name, source in SOURCES.items()}


def snapshot(cfg) -> dict:
    with connect(cfg) as wh:
        out = {}
        for name in SOURCES:
            out[name] = wh.query(f"select count(*), count(distinct _source_file), max(_load_id) from raw.{name}")[1]
        out["audit"] = wh.query("select count(*) from audit.load_runs")[1]
        return out


def test_rerunning_ingestion_changes_nothing(fresh):
    first = load_all(fresh)
    before = snapshot(fresh)
    again = load_all(fresh)
    assert all(s.files_loaded == 0 and s.files_skipped == first[n].files_loaded for n, s in again.items())
    assert snapshot(fresh) == before


def test_every_file_has_an_audit_row_and_counts_reconcile(fresh):
    load_all(fresh)
    with connect(fresh) as wh:
        audit = {
            r[0]: r[1:] for r in wh.query("select file, rows_read, rows_loaded, rows_rejected from audit.load_runs")[1]
        }
    files = [p for s in SOURCES.values() for p in fresh.landing.glob(s.pattern)]
    assert len(audit) == len(files)
    for path in files:
        read, loaded, rejected = audit[str(path.relative_to(fresh.landing))]
        text = path.read_text()
        records = (
            text.count("<brand>")
            if path.suffix == ".xml"
            else text.count('"sku_id"')
            if path.suffix == ".json"
            else len([line for line in text.splitlines() if line.strip()]) - (path.suffix == ".csv")
        )
        assert read == loaded + rejected == records, path


def plant_bad_input(landing: Path) -> dict[str, Path]:
    orders = sorted(landing.glob(SOURCES["orders"].pattern))[5]
    orders.write_bytes(orders.read_bytes()[:-25])  # the last record is cut off mid-line
    customers = sorted(landing.glob(SOURCES["customers"].pattern))[3]
    lines = customers.read_text().splitlines()
    header = lines[0].split(",")
    lines[1] = ",".join(
        v if h != "date_of_birth" else "1990-13-45" for h, v in zip(header, lines[1].split(","), strict=True)
    )
    customers.write_text("\n".join(lines) + "\n")
    no_email = sorted(landing.glob(SOURCES["customers"].pattern))[4]
    rows = [line.split(",") for line in no_email.read_text().splitlines()]
    drop = rows[0].index("email_address")
    no_email.write_text("\n".join(",".join(r[:drop] + r[drop + 1 :]) for r in rows) + "\n")
    brands = sorted(landing.glob(SOURCES["brands"].pattern))[0]
    brands.write_text(brands.read_text().replace("</brands>", ""))
    return {"truncated": orders, "bad_date": customers, "missing_column": no_email, "broken_xml": brands}


def test_bad_input_is_rejected_with_reasons_and_nothing_is_lost(fresh):
    bad = plant_bad_input(fresh.landing)
    summaries = load_all(fresh)
    rel = {k: str(p.relative_to(fresh.landing)) for k, p in bad.items()}
    with connect(fresh) as wh:
        orders_rejects = wh.query(
            "select _line, reason from raw.orders__rejects where _source_file = ?", [rel["truncated"]]
        )[1]
        customer_rejects = wh.query(
            "select _line, reason from raw.customers__rejects where _source_file = ?", [rel["bad_date"]]
        )[1]
        failed = dict(wh.query("select file, error from audit.load_runs where status = 'failed'")[1])
        loaded_from_failed = wh.query(
            "select count(*) from raw.customers where _source_file = ?", [rel["missing_column"]]
        )[1]
    assert len(orders_rejects) == 1 and orders_rejects[0][1].startswith("malformed JSON")
    assert orders_rejects[0][0] == len(bad["truncated"].read_text().splitlines())
    assert customer_rejects == [(2, "bad date in date_of_birth: '1990-13-45'")]
    assert "missing column(s): email_address" in failed[rel["missing_column"]]
    assert "not well-formed XML" in failed[rel["broken_xml"]]
    assert loaded_from_failed == [(0,)]
    assert summaries["customers"].failures and summaries["brands"].failures and not summaries["orders"].failures
    for s in summaries.values():
        assert s.rows_read == s.rows_loaded + s.rows_rejected


def test_fixing_a_failed_file_and_rerunning_recovers(fresh, landing):
    bad = plant_bad_input(fresh.landing)
    load_all(fresh)
    shutil.copy(landing / bad["broken_xml"].relative_to(fresh.landing), bad["broken_xml"])
    again = load_all(fresh)
    assert again["brands"].files_loaded == 1 and not again["brands"].failures


CRASHING_LOAD = """
import os
import orchestration.lib.load as load
from c360_core.settings import settings
os.environ["C360_LOAD_CHUNK_FILES"] = "40"
load.CHECKPOINT_ROWS = 1  # and a checkpoint after every chunk: the kill lands between two of them
from c360_core.warehouse import connect
from landing import SOURCES
with connect(settings()) as wh:
    load.load_source(wh, SOURCES["web_events"], settings().landing, on_chunk=lambda s: print("chunk", flush=True))
"""


def test_a_crash_mid_load_leaves_no_partial_file(fresh):
    """Kill -9 the loader part-way; every file in raw is then complete and audited, or absent."""
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_LOAD], stdout=subprocess.PIPE, text=True)
    for _ in range(3):  # three chunks committed: the loader is now working on the fourth
        assert proc.stdout.readline() == "chunk\n"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with connect(fresh) as wh:
        per_file = dict(wh.query("select _source_file, count(*) from raw.web_events group by _source_file")[1])
        audit = dict(wh.query("select file, rows_loaded from audit.load_runs where source = 'web_events'")[1])
    assert per_file == {f: n for f, n in audit.items() if n}
    total_files = len(list(fresh.landing.glob(SOURCES["web_events"].pattern)))
    assert len(audit) < total_files, "the loader finished before it was killed; the test proved nothing"
    after = load_all(fresh)["web_events"]
    assert after.files_loaded == total_files - len(audit)


def test_small_chunks_commit_together_up_to_the_files_per_transaction(fresh, monkeypatch):
    """Chunks of a few files each commit in one transaction until COMMIT_ROWS rows (DuckDB writes a large
    insert straight into row groups), but never more files than C360_LOAD_CHUNK_FILES in one."""
    commits: list[int] = []  # files per transaction
    real = load._commit
    monkeypatch.setattr(load, "_commit", lambda wh, source, chunks: (commits.append(sum(len(c.good) for c in chunks)),
                                                                    real(wh, source, chunks)))  # fmt: skip
    monkeypatch.setattr(reading, "CHUNK_BYTES", 2**15)  # a chunk is a file or two
    source = SOURCES["web_events"]
    files = len(list(fresh.landing.glob(source.pattern)))
    with connect(fresh) as wh:
        summary = load_source(wh, source, fresh.landing)
        assert len(commits) == 1 and commits[0] == files == summary.files_loaded  # far below COMMIT_ROWS
        monkeypatch.setenv("C360_LOAD_CHUNK_FILES", "7")
        commits.clear()
        summary = load_source(wh, source, fresh.landing, force=True)
        assert sum(commits) == files and max(commits) <= 7 and len(commits) >= files / 7
        rows = wh.query("select count(*) from raw.web_events")[1][0][0]
    assert rows == summary.rows_loaded and summary.rows_read == summary.rows_loaded + summary.rows_rejected


@pytest.mark.parametrize("built", ["duckdb"], indirect=True)
def test_duckdb_keeps_the_event_ids_uncompressed_and_compresses_the_other_text(built):
    """The web events' ids (random UUIDs, load.RANDOM_COLUMNS) are stored without compression: DuckDB's DICT_FSST
    took 3x as long to write and to scan them. The other text columns keep DuckDB's choice."""
    with env(built), connect(settings()) as wh:
        _, rows = wh.query(
            "select column_name, list(distinct compression) from pragma_storage_info('raw.web_events') "
            "where segment_type = 'VARCHAR' group by column_name"
        )
    found = {column: set(kinds) for column, kinds in rows}
    assert found["activity_uuid"] == {"Uncompressed"}
    assert "Uncompressed" not in found["event_action"]  # six actions: a dictionary


def _key(activity_uuid: str | None) -> int | None:
    """An id's look-up key worked out by hand: a UUID's first 60 bits (None for an id that is no UUID)."""
    try:
        return uuid.UUID(activity_uuid).int >> 68 if len(activity_uuid or "") == 36 else None
    except ValueError:
        return None


def test_each_web_event_keeps_the_look_up_key_of_its_id(built):
    """raw.web_events keeps beside each id its look-up key (the contract's cross-batch check scans it in place
    of the ids on DuckDB), on every engine."""
    with env(built), connect(settings()) as wh:
        _, rows = wh.query("select activity_uuid, activity_key from raw.web_events")
    assert len(rows) > 1000
    assert sum(key is not None for _, key in rows) > 0.99 * len(rows)
    assert [key for _, key in rows] == [_key(i) for i, _ in rows]


def test_a_web_events_table_made_before_the_key_gets_its_column(fresh):
    """A raw.web_events created before the look-up key gets the column at the next load; DuckDB fills it for
    the rows already there, in the same transaction (the other engines do not read it: null)."""
    source = SOURCES["web_events"]
    with connect(fresh) as wh:
        load_source(wh, source, fresh.landing)
        wh.execute("alter table raw.web_events drop column activity_key")
        load.ensure_tables(wh, source)
        _, rows = wh.query("select activity_uuid, activity_key from raw.web_events")
    expected = [_key(i) for i, _ in rows] if fresh.target == "duckdb" else [None] * len(rows)
    assert len(rows) > 1000 and [key for _, key in rows] == expected
