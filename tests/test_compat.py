"""The private names of other libraries c360 uses live in compat modules, each read in the versions it names
(CHECKED): an upgrade fails here first, naming the module whose lines to re-check; and no other module of
c360 imports a private name."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPAT = ["orchestration.compat.dagster", "orchestration.compat.dagster_dbt", "orchestration.compat.dbt_duckdb",
          "orchestration.compat.metricflow", "quality.soda_compat", "c360_cli.compat", "c360_core.spark_compat",
          "tests.support.xdist_compat"]  # fmt: skip
PRIVATE = re.compile(
    r"from dagster\._|import dagster\._|dagster_dbt\.core\.|atexit\._|soda_core\.common|soda_duckdb\.common|"
    r"soda_sparkdf\.common|pyspark\.sql\.connect|"
    r"metricflow\.sql\.|metricflow\.protocols|DuckDBConnectionManager\._"
)


def installed(package: str) -> str:
    if package == "python":
        return f"{sys.version_info.major}.{sys.version_info.minor}"
    return importlib.metadata.version(package)


@pytest.mark.parametrize("module", COMPAT)
def test_each_compat_module_was_read_in_the_installed_versions(module: str) -> None:
    checked = importlib.import_module(module).CHECKED
    changed = {p: (v, installed(p)) for p, v in checked.items() if installed(p) != v}
    assert changed == {}, (
        f"{module} was read against {checked}, but these differ (read, installed): {changed}; "
        f"re-read the lines of {module.replace('.', '/')}.py, then update its CHECKED"
    )


def test_no_module_outside_the_compat_modules_names_a_private_api() -> None:
    compat = {ROOT / f"{m.replace('.', '/')}.py" for m in COMPAT}
    packages = ("c360_core", "landing", "quality", "ml", "governance", "orchestration", "c360_cli")
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
        if path not in compat
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if PRIVATE.search(line)
    ]
    assert found == []


def test_dbt_duckdb_keeps_its_database_where_compat_closes_it() -> None:
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager  # noqa: PLC0415

    from orchestration.compat.dbt_duckdb import close_dbt_duckdb_database  # noqa: PLC0415

    assert hasattr(DuckDBConnectionManager, "_ENV") and hasattr(DuckDBConnectionManager, "_LOCK")
    close_dbt_duckdb_database()  # with nothing open: a no-op
    assert DuckDBConnectionManager._ENV is None


def test_the_test_scheduler_groups_by_target_and_overrides_a_member_xdist_has() -> None:
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415

    from tests.support.xdist_compat import TargetScheduling, group_of  # noqa: PLC0415

    assert "_split_scope" in vars(LoadScopeScheduling) and "_split_scope" in vars(TargetScheduling)
    assert group_of("tests/a.py::test_x[postgres]") == group_of("tests/b.py::test_y[postgres-c360_marketing]")
    assert group_of("tests/a.py::test_x[duckdb]") == "duckdb" != group_of("tests/a.py::test_x[postgres]")
    assert group_of("tests/a.py::test_x[raw.orders]") == group_of("tests/a.py::test_z") == "tests/a.py"
    # the Spark package's modules share one cluster: one group; its shared warehouse's tests go with Spark's
    assert group_of("tests/spark/test_cluster.py::test_a") == group_of("tests/spark/test_stop.py::test_b")
    assert group_of("tests/spark/test_spark_cycles.py::test_c[spark]") == "spark"


def test_the_dbt_macros_that_replace_dbt_sparks_were_read_in_the_installed_version() -> None:
    """dbt_project/macros/spark_compat.sql takes the place of two dbt-spark macros by their names."""
    text = (ROOT / "dbt_project" / "macros" / "spark_compat.sql").read_text()
    checked = re.search(r"CHECKED dbt-spark\s+([\d.]+)", text).group(1)
    assert checked == installed("dbt-spark"), "re-read dbt_project/macros/spark_compat.sql, then update its CHECKED"
    source = importlib.resources.files("dbt.include.spark") / "macros" / "materializations" / "incremental"
    original = "".join(p.read_text() for p in source.iterdir() if p.name.endswith(".sql"))
    for name in re.findall(r"{% macro (dbt_spark_\w+)\(", text):  # still dbt-spark's names, still called
        assert f"macro {name}(" in original and f"{name}(" in original.replace(f"macro {name}(", "")
