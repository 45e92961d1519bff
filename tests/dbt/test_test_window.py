"""dbt tests that scale with the batch (dbt_project/macros/test_window.sql).

An incremental model records its watermark before each build; a test configured `where: __new_rows__`
reads only the rows loaded after it, and with the var c360_test_window=all (or C360_TEST_WINDOW=all)
every row. Here, on a copy of the built warehouse, a duplicated activity_uuid is planted in
staging.stg_web__events: among the rows an earlier build kept, the windowed unique test passes and the
full one fails; among the new rows, both fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from c360_core.settings import settings
from c360_core.warehouse import connect
from governance.pii import DBT_PROJECT
from orchestration.defs.dbt.project import dbt_env
from tests.support.warehouse import env

MODEL = "staging.stg_web__events"
UNIQUE = "stg_web__events,test_name:unique_by_key"  # the ids' unique test (by their look-up key)
INCREMENTAL = ["staging.stg_web__events", "intermediate.int_web_activity_sessionized",
               "intermediate.int_customer_activity_aggregated", "marts.web_sessions", "marts.product_views",
               "marts.favorites", "marts.cart_adds", "marts.orders_placed", "marts.orders"]  # fmt: skip


def _dbt_test(values: dict[str, str], target: Path, test_vars: dict | None = None) -> int:
    dbt = Path(sys.executable).parent / "dbt"
    args = [str(dbt), "test", "--select", UNIQUE, "--project-dir", str(DBT_PROJECT), "--profiles-dir",
            str(DBT_PROJECT), "--target-path", str(target), "--log-path", str(target)]  # fmt: skip
    if test_vars:
        args += ["--vars", json.dumps(test_vars)]
    with env(values), env(dbt_env()):  # every setting, as c360 passes them to dbt
        done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=600)
    assert "Compilation Error" not in done.stdout and "Database Error" not in done.stdout, done.stdout[-3000:]
    return done.returncode


def test_the_window_tests_the_new_rows_and_the_full_run_every_row(forked, tmp_path):
    with env(forked), connect(settings()) as wh:
        _, rows = wh.query("select relation, tested_since from audit.dbt_test_windows")
        recorded = dict(rows)
        # every incremental model recorded its window; the build that made them was a first build: test all
        assert set(INCREMENTAL) <= set(recorded), sorted(recorded)
        assert all(recorded[m] is None for m in INCREMENTAL)
        # as an hourly build would: the window starts after the newest row the model already held
        _, [(newest,)] = wh.query(f"select max(_loaded_at) from {MODEL}")
        wh.execute("update audit.dbt_test_windows set tested_since = ? where relation = ?", [newest, MODEL])
        # a row the earlier build kept, twice: not after the window's start
        wh.execute(f"insert into {MODEL} select * from {MODEL} limit 1")
    assert _dbt_test(forked, tmp_path / "t1") == 0, "the old duplicate is outside the window"
    assert _dbt_test(forked, tmp_path / "t2", {"c360_test_window": "all"}) != 0, "the full run reads every row"
    # the daily quality_full job's way: the environment, so dbt's vars (and its parse) stay as they were
    assert _dbt_test({**forked, "C360_TEST_WINDOW": "all"}, tmp_path / "t2e") != 0, "so does the job's full run"

    with env(forked), connect(settings()) as wh:  # the same duplicate, as newly loaded rows
        wh.execute(f"update {MODEL} set _loaded_at = _loaded_at + interval '1 hour' where activity_uuid = "
                   f"(select activity_uuid from {MODEL} group by activity_uuid having count(*) > 1)")  # fmt: skip
    assert _dbt_test(forked, tmp_path / "t3") != 0, "a duplicate among the new rows fails the windowed test"
