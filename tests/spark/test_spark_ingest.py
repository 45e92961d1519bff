"""The loaders on Spark keep DuckDB's rows and rejects, on a real cluster: a small landing zone with every kind
of tests/support/bad_input.py whose file loads planted in it, loaded by the loaders on the package's cluster
(tests/spark/conftest.py) and on DuckDB beside it:

- the raw rows and the rejects, with their reasons, are DuckDB's;
- every file's audit row reconciles (read = loaded + rejected) with the catalogue or the landing file;
- every raw contract gives DuckDB's outcomes, figures and score, and the bad input fails some.

The loaders parse in DuckDB on every target, so this is the Spark write path under the same parser.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from c360_core.settings import environ as env
from c360_core.settings import settings
from c360_core.warehouse import connect
from landing import SOURCES
from orchestration.lib.load import load_source
from simulator.config import GeneratorConfig
from simulator.generate import generate
from tests.support.bad_input import Kind, catalogue, plant
from tests.support.compare import audit_of_loaded_files, differences, outcomes, raw_tables_that_differ
from tests.support.readers import read_records
from tests.support.warehouse import SPARK_PACKAGE, target_env

pytestmark = pytest.mark.spark

START, END = dt.date(2026, 1, 1), dt.date(2026, 1, 12)
AS_OF = END + dt.timedelta(days=1)


@pytest.fixture(scope="module")
def zone(tmp_path_factory) -> tuple[Path, list[Kind]]:
    root = tmp_path_factory.mktemp("zone") / "landing"
    generate(GeneratorConfig(customers=120, seed=11, start=START, end=END, out=root, quiet=True))
    kinds = [k for k in catalogue(root) if not k.refused]  # a refused file holds back its source's models
    plant(root, kinds)
    return root, kinds


def loaded(zone_root: Path, data_dir: Path, values: dict[str, str]) -> dict[str, str]:
    """Every source of the zone loaded by the loader itself (Dagster's runs on Spark are the cycles tests')."""
    shutil.copytree(zone_root, data_dir / "landing")
    values = target_env(values.get("C360_TARGET", "duckdb"), data_dir, "unused") | values
    values["C360_AS_OF_DATE"] = AS_OF.isoformat()
    with env(values), connect(settings()) as wh:
        for source in SOURCES.values():
            load_source(wh, source, data_dir / "landing")
    return values


@pytest.fixture(scope="module")
def duck(zone, tmp_path_factory) -> dict[str, str]:
    return loaded(zone[0], tmp_path_factory.mktemp("duck"), {"C360_TARGET": "duckdb"})


@pytest.fixture(scope="module")
def spark(zone, tmp_path_factory, cli_cluster) -> dict[str, str]:
    """Loaded on the package's cluster (tests/spark/conftest.py), whose raw schema holds nothing of c360 yet."""
    return loaded(zone[0], tmp_path_factory.mktemp("spark"), {"C360_TARGET": "spark", **SPARK_PACKAGE})


def test_raw_rows_and_rejects_are_duckdbs_and_every_file_reconciles(spark, duck, zone):
    root, kinds = zone
    assert raw_tables_that_differ(duck, spark) == []
    audit = audit_of_loaded_files(spark)
    assert len({file for _, file, *_ in audit}) == sum(1 for p in root.rglob("*.*") if "_manifest" not in p.parts)
    planted = {k.rel: k for k in kinds}
    for source, file, read, loaded_rows, rejected in audit:
        assert read == loaded_rows + rejected, file
        if file in planted:  # what the catalogue says of its file
            assert (loaded_rows, rejected) == (planted[file].loads, len(planted[file].rejects)), file
        else:  # a generated file: every record of it loads
            assert rejected == 0 and loaded_rows == len(read_records(root / file, source)), file
    assert sum(len(k.rejects) for k in kinds) > 10


def test_every_raw_contract_gives_duckdbs_outcomes_and_score(spark, duck):
    want = outcomes(duck, "raw.")
    assert differences(want, outcomes(spark, "raw.")) == {}
    assert any(s < 100 for s, _ in want.values())  # the planted bad input fails some checks
