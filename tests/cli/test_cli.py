"""The CLI against a built warehouse: `c360 sql`, `materialize`, `quality`, `grants apply` and `simulate-shop`."""

import csv
import io
import json
import re

import psycopg
import pytest
from click.testing import CliRunner

from c360_cli.main import cli
from c360_core.settings import settings
from c360_core.warehouse import connect
from tests.support import expected
from tests.support.readers import all_records
from tests.support.warehouse import AS_OF, PG_ADMIN, env, landing_of


def test_sql_prints_a_table(built):
    customers = {c["customer_id"] for c in all_records(landing_of(built), "customers")}
    with env(built):
        result = CliRunner().invoke(cli, ["sql", "select count(*) as n from marts.customer_360"])
    assert result.exit_code == 0, result.output
    assert f"{len(customers)}" in result.output and "1 row(s)" in result.output


def test_sql_as_csv_and_json_gives_every_row_exactly(built):
    landing = landing_of(built)
    states = {c: r["state"] for c, r in expected.latest(landing, "customers", "customer_id").items()}
    totals = {c: str(v["total_order_value"]) for c, v in expected.customer_orders(landing, AS_OF).items()
              if c in states}  # fmt: skip
    with env(built):
        as_csv = CliRunner().invoke(cli, ["sql", "--format", "csv",
                                          "select customer_id, state from marts.customers order by 1"])  # fmt: skip
        as_json = CliRunner().invoke(cli, ["sql", "--format", "json", "select customer_id, total_order_value "
                                           "from marts.customer_360 where orders_count > 0"])  # fmt: skip
    assert as_csv.exit_code == 0 and as_json.exit_code == 0, as_csv.output + as_json.output
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0] == ["customer_id", "state"] and {c: s for c, s in rows[1:]} == states  # every row, not 200
    assert {r["customer_id"]: r["total_order_value"] for r in json.loads(as_json.stdout)} == totals  # exact cents


def test_bad_sql_exits_non_zero_with_the_error(built):
    with env(built):
        result = CliRunner().invoke(cli, ["sql", "select no_such_column from marts.customer_360"])
    assert result.exit_code == 1
    assert "SQL error" in result.output and "no_such_column" in result.output


def test_materialize_rejects_a_selection_that_matches_nothing(built):
    with env(built):
        result = CliRunner().invoke(cli, ["materialize", "--select", "key:no/such_asset"])
    assert result.exit_code == 1 and "matches no asset" in result.output


def test_quality_exits_0_on_clean_data_and_1_on_a_failed_blocking_check(forked):
    with env(forked):
        clean = CliRunner().invoke(cli, ["quality", "raw.customers", "raw.brands"])
    assert clean.exit_code == 0, clean.output
    assert clean.output.count("100.00") == 2
    # a second record for an existing customer version: the blocking key check fails
    with env(forked), connect(settings()) as wh:
        wh.execute("insert into raw.customers select * from raw.customers limit 1")
    with env(forked):
        broken = CliRunner().invoke(cli, ["quality", "raw.customers"])
        unknown = CliRunner().invoke(cli, ["quality", "raw.no_such_table"])
    assert broken.exit_code == 1, broken.output
    assert "version_key" in broken.output
    assert unknown.exit_code == 2 and "no contract for raw.no_such_table" in unknown.output


@pytest.mark.parametrize("built", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_grants_apply_twice_gives_the_same_roles_and_policies(forked):
    runs = []
    for _ in range(2):
        with env(forked):
            result = CliRunner().invoke(cli, ["grants", "apply"])
        assert result.exit_code == 0, result.output
        runs.append(result.output)
        with psycopg.connect(PG_ADMIN.replace("dbname=postgres", f"dbname={forked['C360_PG_DATABASE']}")) as con:
            roles = con.execute("select rolname from pg_roles where rolname like 'c360%' order by 1").fetchall()
            policies = con.execute("select schemaname, tablename, policyname from pg_policies order by 1, 2, 3")
            runs.append((roles, policies.fetchall()))
    assert runs[0] == runs[2] and runs[1] == runs[3]  # the same output, roles and policies the second time
    assert "roles: c360_" in runs[0] and len(runs[1][1]) > 0 and "dropped" not in runs[2]


def test_simulate_shop_writes_what_it_says_it_wrote(forked):
    landing = landing_of(forked)
    before = {o["order_id"] for o in all_records(landing, "orders")}
    records_before = len(all_records(landing, "orders"))
    with env(forked):
        result = CliRunner().invoke(cli, ["simulate-shop", "--rate", "20/s", "--duration", "2", "--seed", "7",
                                          "--batch-seconds", "0.5"])  # fmt: skip
    assert result.exit_code == 0, result.output
    placed, updated = (int(n) for n in re.search(r"(\d+) orders placed, (\d+) status updates", result.output).groups())
    assert placed > 5 and placed + updated > 20  # 2 s at 20 changes/s
    if forked["C360_TARGET"] == "postgres":
        dsn = PG_ADMIN.replace("dbname=postgres", f"dbname={forked['C360_PG_DATABASE']}")
        with psycopg.connect(dsn) as con:
            [(orders,)] = con.execute("select count(*) from shop.orders").fetchall()
        assert orders == placed  # the shop's own table holds each order once, at its latest status
        return
    after = all_records(landing, "orders")
    assert len(after) - records_before == placed + updated  # one record per change
    assert len({o["order_id"] for o in after} - before) == placed
