"""One way to open the DuckDB warehouse in a process: dbt, Soda, the loaders and the governance assets open
the same file with one configuration, at the same time, and dbt leaves nothing open behind it.

DuckDB shares one database instance per file among a process's connections and refuses a connection whose
configuration differs from the open instance's. dbt-duckdb opened the file with no configuration (it applied
the memory limit afterwards, per cursor) and c360 and Soda with the memory limit: whenever dbt's connection
was still open, the retention asset and a contract in the same run failed with "Can't open a connection to
same database file with a different configuration than existing connections".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner

from c360_core.settings import settings
from c360_core.warehouse import connect
from governance.retention import Policy, apply_retention
from orchestration.defs.dbt import in_process
from orchestration.defs.dbt.project import DBT_DIR, dbt_env
from quality.soda import contract_for, verify
from tests.support.warehouse import env

DUCKDB = pytest.mark.parametrize("built", ["duckdb"], indirect=True)


def _dbt_args(values: dict, *args: str) -> list[str]:
    target = Path(values["C360_DATA_DIR"]) / "dbt-target" / "connections"
    return [
        *args,
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target),
    ]


def _open_everything(values: dict) -> None:
    """What the steps of a run open besides dbt: c360's connection (loaders, audiences, ML), a Soda contract
    (it borrows one of c360's) and the retention asset's work, each on the warehouse of `values`."""
    cfg = settings()
    with connect(cfg) as wh:
        assert wh.query("select count(*) from raw.brands")[1][0][0] > 0
    results = verify(cfg, contract_for("raw.brands"))
    assert {r.check for r in results if r.outcome == "failed"} == set()
    # a policy that keeps everything: the asset's transaction and audit row, without changing the data
    apply_retention(cfg, [Policy("brands", "brand_id", None), Policy("web_events", "activity_ts", 100_000)])


@DUCKDB
def test_while_dbt_holds_the_warehouse_open_the_other_steps_open_it_too(forked):
    """Deterministic: the other steps run inside dbt's own event callback, while its connection is open."""
    outcomes: list[str] = []

    def during_dbt(event) -> None:
        # dbt logs the status of each statement it ran (SQLQueryStatus): its connection is open then
        if event.info.name == "SQLQueryStatus" and not outcomes:
            try:
                _open_everything(forked)
                outcomes.append("opened")
            except Exception as err:
                outcomes.append(repr(err))

    with env(forked), env(dbt_env()):
        result = dbtRunner(callbacks=[during_dbt]).invoke(_dbt_args(forked, "run", "--select", "stg_catalog__brands"))
        in_process._release_connections()
    assert result.success, result.exception
    assert outcomes == ["opened"]


@DUCKDB
def test_the_steps_of_a_run_open_the_warehouse_at_once(forked):
    """As a real run interleaves them: dbt builds in its thread while the other steps open the file in a
    loop until dbt is done (each open overlaps dbt's connection or comes between two of its statements)."""
    errors: list[str] = []
    rounds = 0
    with env(forked), env(dbt_env()):
        dbt = in_process.InProcessDbt(["dbt", *_dbt_args(forked, "build", "--select", "+customer_360")])
        while dbt.wait(timeout=0) is None:
            try:
                _open_everything(forked)
            except Exception as err:
                errors.append(repr(err))
            rounds += 1
        lines = list(dbt.stdout)
    assert dbt.returncode == 0, [line for line in lines if b'"level": "error"' in line][:3]
    assert errors == []
    assert rounds >= 2  # the loop really ran beside dbt
