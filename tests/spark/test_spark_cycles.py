"""Incremental equals full on Spark, on a real cluster: the session's Spark warehouse (`built`) was filled the
way a deployment fills one, a first load and then an hourly cycle (one new web-events hour) and a daily cycle
(a new day of customers and transactions), each loading only its new files and refreshing the incremental
models (tests/support/warehouse.py, build_in_cycles). It ends where DuckDB's full build of the same files
ends:

- every model compared (the web models, the marts' orders_enriched and customer_360) holds the same rows (the
  reconciliation tests check the same warehouse against the landing files);
- the raw rows and the audit ledger are DuckDB's, and every file's audit row reconciles (read = loaded +
  rejected) with the lines of its landing file;
- every Soda contract gives DuckDB's outcomes, figures and score.

Nothing is mocked: dbt, Soda and Dagster run against the cluster's Connect server. The rejects of every kind of
bad input are compared in test_spark_ingest.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from c360_core.settings import environ as env
from tests.support.compare import audit_of_loaded_files, differences, outcomes, raw_tables_that_differ, rows_of
from tests.support.readers import read_records
from tests.support.warehouse import ON_SPARK, materialize_all, target_env

pytestmark = [pytest.mark.on_spark, pytest.mark.parametrize("built", [pytest.param("spark", marks=pytest.mark.spark)],
                                                            indirect=True)]  # fmt: skip

COMPARED = [("staging", "stg_web__events"), ("intermediate", "int_web_activity_sessionized"),
            ("marts", "web_sessions"), ("marts", "product_views"), ("marts", "orders_enriched"),
            ("marts", "customer_360")]  # fmt: skip


@pytest.fixture(scope="module")
def duck(built, tmp_path_factory) -> dict[str, str]:
    """DuckDB over the same files, in one go: the selection the Spark warehouse was built with."""
    data_dir = tmp_path_factory.mktemp("duck")
    shutil.copytree(Path(built["C360_DATA_DIR"]) / "landing", data_dir / "landing")
    values = {**built, **target_env("duckdb", data_dir, "unused")}
    with env(values):
        assert materialize_all(ON_SPARK)
    return values


def test_after_an_hourly_and_a_daily_cycle_the_models_hold_what_a_full_build_holds(built, duck):
    for schema, name in COMPARED:
        with env(duck):
            want = rows_of(f"{schema}.{name}")
        with env(built):
            got = rows_of(f"{schema}.{name}")
        assert want, f"{schema}.{name}"
        assert got == want, f"{schema}.{name}: the cycles on Spark differ from the full build"


def test_raw_rows_are_duckdbs_and_every_file_reconciles(built, duck):
    assert raw_tables_that_differ(duck, built) == []
    root = Path(built["C360_DATA_DIR"]) / "landing"
    audit = audit_of_loaded_files(built)
    assert sorted(file for _, file, *_ in audit) == sorted(
        str(p.relative_to(root)) for p in root.rglob("*.*") if "_manifest" not in p.parts
    )
    for source, file, read, loaded, rejected in audit:
        assert (read, loaded, rejected) == (len(read_records(root / file, source)),) * 2 + (0,), file


def test_every_contract_gives_duckdbs_outcomes_and_score(built, duck):
    assert differences(outcomes(duck), outcomes(built)) == {}
