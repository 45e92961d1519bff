"""Every `c360 sql` call is recorded in audit.access_log: who, which role, the statement, the relations
it touched, the rows it returned, how long, when, and whether it failed (docs/governance.md)."""

from __future__ import annotations

from click.testing import CliRunner

from c360_cli.main import cli
from c360_core.settings import settings
from c360_core.warehouse import connect
from tests.support.warehouse import env


def test_every_sql_call_has_its_row_with_the_right_role(built):
    postgres = built["C360_TARGET"] == "postgres"
    owner = "postgres" if postgres else "owner"
    calls = [  # (statement, --as, exit code, role recorded, relations, rows)
        ("select count(*) from marts.customer_360", None, 0, owner, "marts.customer_360", 1),
        ("with c as (select customer_id from marts.customers) select o.order_id from marts.orders as o "
         "join c using (customer_id) limit 3", None, 0, owner, "marts.customers,marts.orders", 3),
        ("select * from marts.no_such_table", None, 1, owner, "marts.no_such_table", 0),
    ]  # fmt: skip
    if postgres:  # the server enforces the role the call runs as
        calls += [
            ("select count(*) from share_marketing.customers", "c360_marketing", 0, "c360_marketing",
             "share_marketing.customers", 1),
            ("select count(*) from marts.customers", "c360_marketing", 1, "c360_marketing", "marts.customers", 0),
        ]  # fmt: skip
    with env({**built, "C360_USER": "analyst.jane"}):
        for statement, role, code, *_ in calls:
            args = ["sql", statement] + (["--as", role] if role else [])
            result = CliRunner().invoke(cli, args)
            assert result.exit_code == code, result.output
        with connect(settings()) as wh:
            _, rows = wh.query(
                "select user_name, role_name, interface, statement, relations, row_count, status, error, "
                "duration_ms, accessed_at from audit.access_log order by accessed_at desc limit ?",
                [len(calls)],
            )
    rows = list(reversed(rows))
    assert len(rows) == len(calls)
    for (statement, _, code, role, relations, count), row in zip(calls, rows, strict=True):
        user, role_name, interface, logged, touched, row_count, status, error, duration, at = row
        assert (user, role_name, interface, logged, touched) == ("analyst.jane", role, "sql", statement, relations)
        assert status == ("ok" if code == 0 else "error") and (error is None) == (code == 0)
        assert row_count == count and duration >= 0 and at is not None
