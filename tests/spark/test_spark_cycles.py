"""The same answers on Spark as on DuckDB, from one small landing zone with bad input planted (every kind of
tests/support/bad_input.py whose file loads, with rejects), on a real cluster:

- the first load, then an hourly cycle (one new web-events hour) and a daily cycle (a new day of customers and
  transactions), each loading only its new files and refreshing the incremental models, end where a full
  build of the same files ends: every model compared (the web models, the marts' orders_enriched and
  customer_360) holds the rows DuckDB's full build holds (Spark's own full build is the reconciliation tests'
  `built` warehouse, checked against the landing files);
- the raw rows and the rejects, with their reasons, are DuckDB's, and every file's audit row reconciles
  (read = loaded + rejected) with the lines of the landing file;
- every Soda contract gives DuckDB's outcomes, figures and score.

DuckDB builds the same files in one go beside it. Nothing is mocked: dbt, Soda and Dagster run against the
Connect server of a cluster of this module's own.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from c360_core.settings import environ as env
from c360_core.settings import settings
from c360_core.warehouse import connect
from landing import SOURCES, path_for
from quality.score import score
from quality.soda import CheckResult, contracts, verify
from simulator.config import GeneratorConfig
from simulator.generate import generate
from tests.support.bad_input import Kind, catalogue, plant
from tests.support.readers import read_records
from tests.support.warehouse import ON_SPARK, SPARK_FRESH, WAREHOUSE, materialize_all, spark_cluster_at, target_env

pytestmark = pytest.mark.spark

START, END = dt.date(2026, 1, 1), dt.date(2026, 1, 12)
AS_OF = END + dt.timedelta(days=1)
LAST_HOUR = dt.datetime.combine(END, dt.time(23))
DAILY = ("customers", "transactions")
WEB = 'key:"raw/web_events"'
DAILY_KEYS = " or ".join(f'key:"raw/{s}"' for s in DAILY)
NOT_MODELS = 'group:ml or key:"marts/audience_assignments"+'
COMPARED = [("staging", "stg_web__events"), ("intermediate", "int_web_activity_sessionized"),
            ("marts", "web_sessions"), ("marts", "product_views"), ("marts", "orders_enriched"),
            ("marts", "customer_360")]  # fmt: skip
# what says when a row was loaded or verified, not what it holds
WHEN = {"_load_id", "_loaded_at", "load_id", "started_at", "finished_at", "recorded_at"}


def held_back() -> list[str]:
    """The files the first load does not see: the last hour of web events, the last day of the daily sources."""
    return [path_for("web_events", LAST_HOUR.strftime("%Y-%m-%dT%H")),
            *(path_for(s, END.isoformat()) for s in DAILY)]  # fmt: skip


def rows_of(table: str) -> list[tuple]:
    """Every row of a table on the current settings' warehouse, its columns in name order (a contract orders a
    mart's columns as its YAML does, which Spark does not enforce), but when it was loaded; floats rounded."""
    with connect(settings()) as wh:
        columns, rows = wh.query(f"select * from {table}")
    keep = sorted((c, i) for i, c in enumerate(columns) if c not in WHEN)
    clean = [tuple(round(r[i], 6) if isinstance(r[i], float) else r[i] for _, i in keep) for r in rows]
    return sorted(clean, key=repr)


def run(select: str, *args, **kw) -> None:
    assert materialize_all(select, *args, **kw), select


@pytest.fixture(scope="module")
def zone(tmp_path_factory) -> tuple[Path, list[Kind]]:
    root = tmp_path_factory.mktemp("zone") / "landing"
    generate(GeneratorConfig(customers=120, seed=11, start=START, end=END, out=root, quiet=True))
    kinds = [k for k in catalogue(root) if not k.refused]  # a refused file holds back its source's models
    plant(root, kinds)
    return root, kinds


@pytest.fixture(scope="module")
def duck(zone, tmp_path_factory) -> dict[str, str]:
    """DuckDB over the same files, in one go."""
    data_dir = tmp_path_factory.mktemp("duck")
    shutil.copytree(zone[0], data_dir / "landing")
    values = target_env("duckdb", data_dir, "unused") | {"C360_AS_OF_DATE": AS_OF.isoformat()}
    with env(values):
        run(WAREHOUSE)
    return values


@pytest.fixture(scope="module")
def spark(zone, tmp_path_factory):
    """Spark: the first load without the held-back files, then an hourly cycle and a daily cycle."""
    data_dir = tmp_path_factory.mktemp("spark")
    held, landing = data_dir / "held", data_dir / "landing"
    shutil.copytree(zone[0], landing)
    for rel in held_back():
        (held / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(landing / rel, held / rel)
    with spark_cluster_at(data_dir / "cluster", SPARK_FRESH) as ports:
        values = target_env("spark", data_dir, "unused") | ports | {"C360_AS_OF_DATE": AS_OF.isoformat()}
        with env(values):
            run(ON_SPARK)  # the first load
            for rel in held_back():
                shutil.move(held / rel, landing / rel)
            run(WEB)  # the hourly cycle: the new hour's file, then what reads it
            run(f"{WEB}+ and not {WEB} and not ({NOT_MODELS})")
            run(DAILY_KEYS)  # the daily cycle
            run(f"({DAILY_KEYS})+ and not ({DAILY_KEYS}) and not ({NOT_MODELS})")
            yield values


def test_after_an_hourly_and_a_daily_cycle_the_models_hold_what_a_full_build_holds(spark, duck):
    for schema, name in COMPARED:
        with env(duck):
            want = rows_of(f"{schema}.{name}")
        with env(spark):
            got = rows_of(f"{schema}.{name}")
        assert want, f"{schema}.{name}"
        assert got == want, f"{schema}.{name}: the cycles on Spark differ from the full build"


def test_raw_rows_and_rejects_are_duckdbs_and_every_file_reconciles(spark, duck, zone):
    values = spark
    root, kinds = zone
    for source in SOURCES:
        for table in (f"raw.{source}", f"raw.{source}__rejects"):
            with env(duck):
                want = rows_of(table)
            with env(values):
                got = rows_of(table)
            assert got == want, table
    with env(values), connect(settings()) as wh:
        _, audit = wh.query("select source, file, rows_read, rows_loaded, rows_rejected from audit.load_runs "
                            "where status = 'loaded'")  # fmt: skip
    assert len({file for _, file, *_ in audit}) == sum(1 for p in root.rglob("*.*") if "_manifest" not in p.parts)
    planted = {k.rel: k for k in kinds}
    for source, file, read, loaded, rejected in audit:
        assert read == loaded + rejected, file
        if file in planted:  # what the catalogue says of its file
            assert (loaded, rejected) == (planted[file].loads, len(planted[file].rejects)), file
        else:  # a generated file: every record of it loads
            assert rejected == 0 and loaded == len(read_records(root / file, source)), file
    assert sum(len(k.rejects) for k in kinds) > 10


def _figure(r: CheckResult) -> float | None:
    """A check's figure to compare: a freshness check's is the hours since the warehouse loaded, which differ."""
    return None if r.check_type == "freshness" or r.value is None else round(r.value, 9)


def test_every_contract_gives_duckdbs_outcomes_and_score(spark, duck):
    values = spark
    found = {}
    for target in (duck, values):
        with env(target):
            cfg = settings()
            results = {c.dataset: verify(cfg, c) for c in contracts()}
        found[target["C360_TARGET"]] = {
            dataset: (score(dataset, got).score, sorted((r.check, r.outcome, _figure(r), r.failed_rows) for r in got))
            for dataset, got in results.items()
        }
    differ = {d: (found["duckdb"][d], found["spark"].get(d)) for d in found["duckdb"] if found["spark"].get(d) !=
              found["duckdb"][d]}  # fmt: skip
    assert differ == {}
    assert any(s < 100 for s, _ in found["duckdb"].values())  # the planted bad input fails some checks
