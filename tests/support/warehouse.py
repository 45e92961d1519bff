"""The warehouse tests' fixtures and helpers: a tiny generated landing zone, materialized end to end on each
target by real Dagster runs (`built`), private copies of it (`forked`), empty warehouses (`fresh`). The root
conftest registers the fixtures for every test folder."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import psycopg
import pytest
from dagster import DagsterInstance

from c360_core import spark as cluster
from c360_core.settings import Settings, settings
from c360_core.settings import environ as env
from c360_core.warehouse import connect
from landing import path_for
from orchestration.definitions import defs
from orchestration.plan import plan, selection
from orchestration.runs import run_steps
from simulator.config import GeneratorConfig
from simulator.generate import generate

START, END = dt.date(2026, 1, 1), dt.date(2026, 2, 14)
AS_OF = dt.date(2026, 2, 15)
SPARK_CUSTOMERS, SPARK_START = 200, dt.date(2026, 2, 1)  # the Spark warehouse's zone: the same last day
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def require_postgres() -> None:
    """The PostgreSQL tests need the server (.ci/run starts it); they fail rather than skip without it.

    To run only the DuckDB side locally, deselect them explicitly: pytest -m "not postgres".
    """
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return
    except psycopg.OperationalError as err:
        pytest.fail(
            f"PostgreSQL at 127.0.0.1:5432 is not reachable ({err}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, "
            'or deselect these tests with -m "not postgres".'
        )


@dataclass
class Hook:
    """A local HTTP receiver's URL and what it got: every call (headers, raw body, the status it answered)."""

    url: str
    calls: list[dict] = field(default_factory=list)

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(c["body"]) for c in self.calls]


@contextlib.contextmanager
def receiver(failures: int = 0) -> Iterator[Hook]:
    """A local HTTP endpoint for alerts and webhooks: it answers the first `failures` POSTs with HTTP 500,
    then 204."""
    hook = Hook("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = 500 if len(hook.calls) < failures else 204
            hook.calls.append({"headers": dict(self.headers), "body": body, "status": status})
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook.url = f"http://127.0.0.1:{server.server_port}/hooks"
    try:
        yield hook
    finally:
        server.shutdown()


def landing_of(built: dict[str, str]) -> Path:
    return Path(built["C360_DATA_DIR"]) / "landing"


def query(values: dict[str, str], sql: str) -> list[tuple]:
    """A query's rows, on the warehouse of `values`."""
    with env(values), connect(settings()) as wh:
        return wh.query(sql)[1]


def frame(values: dict[str, str], sql: str):
    """A query's result as a pandas frame, on the warehouse of `values`."""
    with env(values), connect(settings()) as wh:
        return wh.fetch_frame(sql)


def target_env(target: str, data_dir: Path, database: str) -> dict[str, str]:
    return {
        "C360_TARGET": target,
        "C360_DATA_DIR": str(data_dir),
        "C360_DUCKDB_PATH": str(data_dir / "warehouse.duckdb"),
        "C360_PG_DATABASE": database,
        "C360_AS_OF_DATE": AS_OF.isoformat(),
        "C360_PII_SALT": "c360-test-salt",  # the consumer share's hashes (docs/governance.md)
    }


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as con:
        con.execute(f'drop database if exists "{name}" with (force)')


# By default the warehouse tests build everything but model training, gating and scoring: their small
# data is too short to train on (the steps would only skip), and tests/ml builds those with "*".
WAREHOUSE = "not (group:ml and not kind:dbt)"
# On Spark (the reconciliation and cycles tests), the models they compare and every contract: not the ML
# features, the semantic layer's tables nor what hangs off the marts (docs/scale.md runs those on Spark)
ON_SPARK = f'{WAREHOUSE} and not group:ml and not group:semantic and not key:"marts/audience_assignments"+'
# what a test's cycle does not refresh: the ML features (weekly) and what hangs off the marts
NOT_MODELS = 'group:ml or key:"marts/audience_assignments"+'
# The sources of an hourly and of a daily cycle
WEB = 'key:"raw/web_events"'
DAILY = ("customers", "transactions")
DAILY_KEYS = " or ".join(f'key:"raw/{s}"' for s in DAILY)


def held_back(end: dt.date) -> list[str]:
    """The files a first load does not see, for an hourly and a daily cycle to bring: the last hour of web
    events and the last day of the daily sources."""
    last_hour = dt.datetime.combine(end, dt.time(23)).strftime("%Y-%m-%dT%H")
    return [path_for("web_events", last_hour), *(path_for(s, end.isoformat()) for s in DAILY)]


def build_in_cycles(landing: Path, end: dt.date, select: str) -> None:
    """Build `select` as a deployment fills a warehouse: a first load without the held_back() files, then an
    hourly cycle (the new web hour, then the models that read it) and a daily cycle (the same for the daily
    sources), each loading only its new files and refreshing what depends on them."""
    held = landing.parent / "held"
    for rel in held_back(end):
        (held / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(landing / rel, held / rel)
    assert materialize_all(select), "the first load failed"
    for rel in held_back(end):
        shutil.move(held / rel, landing / rel)
    for keys in (WEB, DAILY_KEYS):
        assert materialize_all(keys), f"the cycle's load {keys} failed"
        refresh = f"({keys})+ and not ({keys}) and not ({NOT_MODELS})"
        assert materialize_all(refresh), f"the cycle's refresh {refresh} failed"


def materialize_all(select: str | None = None, partition_range: str | None = None, instance=None, **kw) -> bool:
    """The CLI's plan (one run per partitioning), executed by real in-process Dagster runs."""
    steps = plan(defs, selection(select or WAREHOUSE, defs), partition_range, **kw)
    if instance is not None:
        return run_steps(defs, steps, instance)[0]
    with DagsterInstance.ephemeral() as own:  # disposed here, in the thread that made it (see `instance`)
        return run_steps(defs, steps, own)[0]


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    """A Dagster instance of the test's own, disposed by the thread that made it: its in-memory event log
    keeps a SQLite connection that no other thread may close (the garbage collector would, in any thread)."""
    with DagsterInstance.ephemeral() as own:
        yield own


def zone_customers(config: pytest.Config, default: int) -> int:
    """The customers of a shared warehouse's zone: `default`, or pytest's --zone-customers (tests/conftest.py)."""
    return config.getoption("zone_customers") or default


@pytest.fixture(scope="session")
def landing(tmp_path_factory, pytestconfig) -> Path:
    root = tmp_path_factory.mktemp("source") / "landing"
    generate(GeneratorConfig(customers=zone_customers(pytestconfig, 300), seed=3, start=START, end=END, out=root,
                             quiet=True))  # fmt: skip
    return root


TARGETS = [
    "duckdb",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("spark", marks=pytest.mark.spark),
]  # only where a test is marked on_spark (conftest.py)
# The tests' Spark clusters: ports of their own, so a developer's cluster (7077, 8080, 15002) may run beside
# them, below the kernel's ephemeral ports (32768-60999: a random driver or client port there once took 35002 from
# a Connect server on CI), and small memories (the test data are small; up to three clusters may run at once)
SPARK_MEMORY = {"C360_SPARK_EXECUTOR_MEMORY": "1g", "C360_SPARK_DRIVER_MEMORY": "1g", "C360_SPARK_WORKER_MEMORY": "1g",
                "C360_SPARK_SHUFFLE_PARTITIONS": "2"}  # fmt: skip
SPARK_BUILT = {"C360_SPARK_MASTER_PORT": "27077", "C360_SPARK_UI_PORT": "28080", "C360_SPARK_CONNECT_PORT": "29002",
               **SPARK_MEMORY}  # fmt: skip
SPARK_FRESH = {"C360_SPARK_MASTER_PORT": "21077", "C360_SPARK_UI_PORT": "22080", "C360_SPARK_CONNECT_PORT": "23002",
               **SPARK_MEMORY}  # fmt: skip
# tests/spark/'s shared cluster (tests/spark/conftest.py): ports of its own, beside a `fresh` one on another worker
SPARK_PACKAGE = {"C360_SPARK_MASTER_PORT": "17077", "C360_SPARK_UI_PORT": "18080", "C360_SPARK_CONNECT_PORT": "25002",
                 **SPARK_MEMORY}  # fmt: skip


@contextlib.contextmanager
def spark_cluster_at(data_dir: Path, ports: dict[str, str]) -> Iterator[dict[str, str]]:
    """A Spark cluster (master, two workers, Connect server: c360_core/spark.py) whose tables and metastore
    live under `data_dir`; yields the settings that reach it. Spark has one catalog per cluster, so a cluster
    holds one warehouse. Never skipped: a missing Java fails."""
    with env({"C360_DATA_DIR": str(data_dir), **ports}):
        cfg = settings()
    try:
        cluster.start(cfg)
    except cluster.SparkError as e:
        pytest.fail(str(e))
    try:
        yield ports
    finally:
        cluster.stop(cfg)


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory) -> Iterator[dict[str, str]]:
    """The cluster of the session's built Spark warehouse (`built`)."""
    with spark_cluster_at(tmp_path_factory.mktemp("spark-cluster"), SPARK_BUILT) as values:
        yield values


@pytest.fixture(scope="session", params=TARGETS)
def built(request, landing, tmp_path_factory) -> Iterator[dict[str, str]]:
    """A warehouse built from `landing` on one target; yields its environment. On Spark, from a zone of its own
    (fewer customers and days, the same last day), by a first load and two cycles (build_in_cycles())."""
    target = request.param
    if target == "postgres":
        require_postgres()
    data_dir = tmp_path_factory.mktemp(target)
    if target == "spark":  # a smaller zone: each run on Spark costs more, and this one takes five (below)
        customers = zone_customers(request.config, SPARK_CUSTOMERS)
        generate(GeneratorConfig(customers=customers, seed=3, start=SPARK_START, end=END, out=data_dir / "landing",
                                 quiet=True))  # fmt: skip
    else:
        shutil.copytree(landing, data_dir / "landing")
    database = f"c360_test_{uuid.uuid4().hex[:8]}"
    values = target_env(target, data_dir, database)
    if target == "spark":
        values |= request.getfixturevalue("spark_cluster")
    with env(values):
        if target == "spark":  # in cycles: tests/spark/test_spark_cycles.py compares it with a full build
            build_in_cycles(data_dir / "landing", END, ON_SPARK)
        else:
            assert materialize_all(), f"the full materialization failed on {target}"
    yield values
    if target == "postgres":
        drop_database(database)


@pytest.fixture(params=TARGETS)
def fresh(request, landing, tmp_path) -> Iterator[Settings]:
    """An empty warehouse on one target, over a private copy of the landing zone (the test may change it). On
    Spark, on a cluster of the test's own."""
    if request.param == "postgres":
        require_postgres()
    shutil.copytree(landing, tmp_path / "landing")
    database = f"c360_test_{uuid.uuid4().hex[:8]}"
    with contextlib.ExitStack() as stack:
        values = target_env(request.param, tmp_path, database)
        if request.param == "spark":
            values |= stack.enter_context(spark_cluster_at(tmp_path / "cluster", SPARK_FRESH))
        with env(values):
            yield settings()
    if request.param == "postgres":
        drop_database(database)


@contextlib.contextmanager
def fork(source: dict[str, str], values: dict[str, str]) -> Iterator[dict[str, str]]:
    """A private copy of a built warehouse and its landing zone, at `values` (file copy, or a Postgres
    template clone); the copy of the landing zone keeps modification times, so nothing in it is new."""
    shutil.copytree(landing_of(source), Path(values["C360_DATA_DIR"]) / "landing")
    postgres = source["C360_TARGET"] == "postgres"
    if postgres:
        with psycopg.connect(PG_ADMIN, autocommit=True) as con:
            con.execute(f'create database "{values["C360_PG_DATABASE"]}" template "{source["C360_PG_DATABASE"]}"')
    else:
        shutil.copy2(source["C360_DUCKDB_PATH"], values["C360_DUCKDB_PATH"])
    try:
        yield values
    finally:
        if postgres:
            drop_database(values["C360_PG_DATABASE"])


@pytest.fixture
def forked(built, tmp_path) -> Iterator[dict[str, str]]:
    """A private copy of the built warehouse."""
    with fork(built, target_env(built["C360_TARGET"], tmp_path, f"c360_test_{uuid.uuid4().hex[:8]}")) as values:
        yield values
