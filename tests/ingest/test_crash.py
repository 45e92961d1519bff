"""Crash safety of `c360 materialize`, each fault injected into a real run in its own process.

- kill -9 in the middle of a load, then a re-run: nothing lost, nothing duplicated, counts reconcile;
- PostgreSQL (a private server) restarted in the middle of a run: a clear error or a retry, and a re-run completes;
- the DuckDB file's disk fills up (a small tmpfs): a clear error, and the warehouse
  opens afterwards with every file it holds complete and what it held before unchanged.
Loads commit a few files per transaction (C360_LOAD_CHUNK_FILES) so that a fault lands mid-load; the
faults wait for the loader's first progress line, not for a time, so they land mid-load on any machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from c360_core.warehouse import connect
from landing import SOURCES
from tests.support.readers import read_records

ROOT = Path(__file__).resolve().parents[2]
INGEST = "group:ingest"


def child_env(cfg, tmp_path: Path) -> dict[str, str]:
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    return os.environ | {
        "DAGSTER_HOME": str(tmp_path),
        "C360_DAGSTER_STORAGE": str(tmp_path / "dagster"),
        "C360_DAGSTER_LOGS": str(tmp_path / "logs"),
        "C360_LOAD_CHUNK_FILES": "5",
    }


def start(child: dict, select: str = INGEST, **kw) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "c360_cli.main", "materialize", "--select", select]
    return subprocess.Popen(cmd, cwd=ROOT, env=child, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def wait_for(proc: subprocess.Popen, text: str) -> list[str]:
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"the run ended before {text!r}:\n{''.join(seen)[-3000:]}")


def finish(child: dict, select: str = INGEST) -> str:
    proc = start(child, select)
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-4000:]
    return out


def reconciles(cfg) -> None:
    """Every landing record is in raw or its rejects exactly once, and every file has one current audit row."""
    with connect(cfg) as wh:
        for name, source in SOURCES.items():
            _, rows = wh.query(f"select _source_file, count(*), count(distinct _line) from raw.{name} group by 1")
            _, rejected = wh.query(f"select _source_file, count(*) from raw.{name}__rejects group by 1")
            loaded = {f: n for f, n, _ in rows}
            assert all(n == distinct for _, n, distinct in rows), f"{name}: a line loaded twice"
            bad = dict(rejected)
            for path in sorted(cfg.landing.glob(source.pattern)):
                rel = str(path.relative_to(cfg.landing))
                records = list(read_records(path, name))
                good = sum(1 for _, r in records if r is not None)
                assert loaded.get(rel, 0) + bad.get(rel, 0) == len(records), rel
                assert loaded.get(rel, 0) == good, rel


def web_files_loaded(cfg) -> int:
    with connect(cfg) as wh:
        return wh.query("select count(distinct file) from audit.load_runs where source = 'web_events'")[1][0][0]


def test_kill_9_mid_load_then_a_rerun_loses_and_duplicates_nothing(fresh, tmp_path):
    child = child_env(fresh, tmp_path)
    proc = start(child)
    wait_for(proc, "web_events: ")  # the loader's first progress line: its first chunk has committed
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    total = len(list(fresh.landing.glob(SOURCES["web_events"].pattern)))
    assert 0 < web_files_loaded(fresh) < total, "the kill did not land mid-load; the test proved nothing"
    finish(child)
    assert web_files_loaded(fresh) == total
    reconciles(fresh)


def pg_bin(tool: str) -> str:
    version = sorted(os.listdir("/usr/lib/postgresql"), key=int)[-1]
    return f"/usr/lib/postgresql/{version}/bin/{tool}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def private_postgres() -> Iterator[tuple[int, Callable[[], None]]]:
    """A PostgreSQL server of the test's own (initdb, trust auth, a free port): restarting it disturbs no
    other test, so the suite may run in parallel. Yields its port and a function that restarts it."""
    home = Path(tempfile.mkdtemp(prefix="c360-pg-"))
    shutil.chown(home, "postgres", "postgres")
    data, port = home / "data", free_port()

    def pg_ctl(*args: str) -> None:
        opts = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
        cmd = ["runuser", "-u", "postgres", "--", pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-w", *args]
        subprocess.run(cmd, check=True, timeout=120, capture_output=True)

    subprocess.run(["runuser", "-u", "postgres", "--", pg_bin("initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "--no-sync"], check=True, timeout=120, capture_output=True)  # fmt: skip
    log = str(home / "server.log")  # the server's output: a pipe would keep pg_ctl's caller waiting
    pg_ctl("-l", log, "start")
    try:
        yield port, lambda: pg_ctl("-l", log, "-m", "fast", "restart")
    finally:
        pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.parametrize("fresh", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_postgres_restarted_mid_run_gives_a_clear_error_and_the_retry_completes(fresh, tmp_path):
    total = len(list(fresh.landing.glob(SOURCES["web_events"].pattern)))
    with private_postgres() as (port, restart):
        cfg = dataclasses.replace(fresh, pg_port=port)
        child = child_env(cfg, tmp_path) | {"C360_PG_PORT": str(port)}
        proc = start(child)
        seen = wait_for(proc, "web_events: ")  # the web load is under way: its first chunk has committed
        booted = server_started(port)
        restart()
        # the server really went down and up, and the web events were half written when it did
        assert server_started(port) > booted
        during = web_files_loaded(cfg)
        assert 0 < during < total, f"the restart did not land mid-load ({during} of {total} files)"
        rest, _ = proc.communicate(timeout=900)
        out = "".join(seen) + rest
        if proc.returncode == 0:  # the loaders' retry policy carried the run through the restart
            assert web_files_loaded(cfg) == total
        else:  # the run failed: it says the connection went, and the files committed before stay
            assert re.search(r"terminat\w* connection|server closed the connection|connection", out, re.I), out[-4000:]
            assert web_files_loaded(cfg) >= during
        finish(child)
        assert web_files_loaded(cfg) == total
        reconciles(cfg)


def server_started(port: int) -> dt.datetime:
    with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", connect_timeout=10) as con:
        return con.execute("select pg_postmaster_start_time()").fetchone()[0]


@contextlib.contextmanager
def small_disk(path: Path, size: int) -> Iterator[Path]:
    """A tmpfs of `size` bytes mounted at path: a disk that really fills up (ENOSPC)."""
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


@pytest.mark.parametrize("fresh", ["duckdb"], indirect=True)
def test_a_full_disk_fails_clearly_and_leaves_the_warehouse_intact(fresh, tmp_path):
    child = child_env(fresh, tmp_path)
    web = fresh.landing / "web"
    held = tmp_path / "held_web"
    shutil.move(web, held)
    finish(child)  # everything but the web events
    with connect(fresh) as wh:
        before = {n: wh.query(f"select count(*) from raw.{n}")[1][0][0] for n in SOURCES}
    shutil.move(held, web)
    # the warehouse moves to a disk with 256 KiB to spare; a year of web events needs more
    with small_disk(tmp_path / "small", fresh.duckdb_path.stat().st_size + 2**18) as disk:
        small = dataclasses.replace(fresh, duckdb_path=disk / "warehouse.duckdb")
        shutil.copy(fresh.duckdb_path, small.duckdb_path)
        proc = start(child | {"C360_DUCKDB_PATH": str(small.duckdb_path)}, 'key:"raw/web_events"')
        out, _ = proc.communicate(timeout=900)
        assert proc.returncode != 0, out[-3000:]
        assert "No space left on device" in out, out[-4000:]  # the run says why
        with connect(small) as wh:  # it opens, and what was there is there
            after = {n: wh.query(f"select count(*) from raw.{n}")[1][0][0] for n in SOURCES}
            _, partial = wh.query(
                "select r.file from audit.load_runs r left join (select _source_file, count(*) as n "
                "from raw.web_events group by 1) w on w._source_file = r.file "
                "where r.status = 'loaded' and r.source = 'web_events' and r.rows_loaded <> coalesce(w.n, 0)"
            )
        shutil.copy(small.duckdb_path, fresh.duckdb_path)  # back to a disk with room
    assert {n: c for n, c in after.items() if n != "web_events"} == {
        n: c for n, c in before.items() if n != "web_events"
    }
    assert partial == []  # any web file it holds, it holds whole
    fresh.duckdb_path.with_suffix(".duckdb.wal").unlink(missing_ok=True)
    finish(child)  # with room again, the load completes
    reconciles(fresh)
