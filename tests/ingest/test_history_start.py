"""A landing zone that starts years before the default partitions start loads with no setting at all.

`c360 materialize` runs in its own process, as a user runs it: the partitions begin at the earliest
landing file, and customer_360 agrees with figures computed straight from the files.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

from c360_core.settings import settings
from c360_core.warehouse import connect
from orchestration.defs.ingest.partitions import DEFAULT_START
from simulator.config import GeneratorConfig
from simulator.generate import generate
from tests.support import expected
from tests.support.readers import all_records
from tests.support.warehouse import WAREHOUSE, env

START, END = dt.date(2019, 2, 1), dt.date(2019, 2, 21)
AS_OF = END + dt.timedelta(days=1)
ROOT = Path(__file__).resolve().parents[2]


def test_history_from_an_earlier_year_loads_without_settings(tmp_path):
    assert START < DEFAULT_START
    generate(GeneratorConfig(customers=150, seed=11, start=START, end=END, out=tmp_path / "landing", quiet=True))
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    values = {
        "C360_TARGET": "duckdb", "C360_DATA_DIR": str(tmp_path), "C360_AS_OF_DATE": AS_OF.isoformat(),
        "C360_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"), "DAGSTER_HOME": str(tmp_path),
        "C360_DAGSTER_STORAGE": str(tmp_path / "dagster"), "C360_DAGSTER_LOGS": str(tmp_path / "logs"),
    }  # fmt: skip
    child = {k: v for k, v in os.environ.items() if k != "C360_PARTITIONS_START"} | values
    done = subprocess.run([sys.executable, "-m", "c360_cli.main", "materialize", "--select", WAREHOUSE],
                          check=False, cwd=ROOT, env=child, capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"customers, transactions, web_events [{START.isoformat()} ... {END.isoformat()}]" in done.stdout

    landing = tmp_path / "landing"
    want = expected.customer_orders(landing, AS_OF)
    crm = {c["customer_id"] for c in all_records(landing, "customers")}
    assert want and crm
    with env(values), connect(settings()) as wh:
        _, rows = wh.query(
            "select customer_id, orders_count, total_order_value, last_order_at, recency_days from marts.customer_360"
        )
    got = {r[0]: r[1:] for r in rows}
    assert set(got) == crm
    for customer, (count, total, last, recency) in got.items():
        w = want.get(customer, {"orders_count": 0, "total_order_value": 0, "last_order_at": None,
                                "recency_days": None})  # fmt: skip
        assert count == w["orders_count"], customer
        assert total == w["total_order_value"], customer  # exact: both are decimals
        assert (last, recency) == (w["last_order_at"], w["recency_days"]), customer
