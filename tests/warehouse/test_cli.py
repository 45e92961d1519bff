"""`c360 sql` and `c360 materialize` against a built warehouse."""

from click.testing import CliRunner

from c360_cli.main import cli
from tests.simulator.readers import all_records
from tests.warehouse.conftest import env, landing_of


def test_sql_prints_a_table(built):
    customers = {c["customer_id"] for c in all_records(landing_of(built), "customers")}
    with env(built):
        result = CliRunner().invoke(cli, ["sql", "select count(*) as n from marts.customer_360"])
    assert result.exit_code == 0, result.output
    assert f"{len(customers)}" in result.output and "1 row(s)" in result.output


def test_bad_sql_exits_non_zero_with_the_error(built):
    with env(built):
        result = CliRunner().invoke(cli, ["sql", "select no_such_column from marts.customer_360"])
    assert result.exit_code == 1
    assert "SQL error" in result.output and "no_such_column" in result.output


def test_materialize_rejects_a_selection_that_matches_nothing(built):
    with env(built):
        result = CliRunner().invoke(cli, ["materialize", "--select", "key:no/such_asset"])
    assert result.exit_code == 1 and "matches no asset" in result.output
