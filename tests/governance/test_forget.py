"""`c360 forget`: none of a customer's identifiers appear in any text column of any table afterwards,
still not after every landing file is loaded again; the request is recorded without the personal data."""

from __future__ import annotations

from click.testing import CliRunner

from c360_cli.main import cli
from c360_core.settings import settings
from c360_core.warehouse import SCHEMAS, connect
from landing import SOURCES
from orchestration.lib.load import load_source
from tests.support import expected
from tests.support.readers import all_records
from tests.support.warehouse import env, landing_of, materialize_all

TEXT_TYPES = ("varchar", "text", "character varying")


def traces(values: dict, person: dict) -> list[str]:
    """Every place in the warehouse (tables and views) a text column holds the id, email or phone, and
    every row holding both the first and the last name."""
    found = []
    with env(values), connect(settings()) as wh:
        marks = ", ".join(f"'{s}'" for s in (*SCHEMAS, "share_marketing", "share_consumer"))
        _, columns = wh.query(
            "select table_schema, table_name, column_name, lower(data_type) from information_schema.columns "
            f"where table_schema in ({marks}) order by 1, 2"
        )
        by_table: dict[str, list[str]] = {}
        for schema, table, column, kind in columns:
            if kind in TEXT_TYPES:
                by_table.setdefault(f"{schema}.{table}", []).append(column)
        for table, texts in by_table.items():
            for needle in (person["customer_id"], person["email_address"], person["phone_number"]):
                probe = " or ".join(f'strpos("{c}", ?) > 0' for c in texts)
                if wh.query(f"select count(*) from {table} where {probe}", [needle] * len(texts))[1][0][0]:
                    found.append(f"{table}: {needle}")
            equals = " or ".join(f'"{c}" = ?' for c in texts)
            both = f"({equals}) and ({equals})"  # some column holds the first name, some the last
            params = [person["first_name"]] * len(texts) + [person["last_name"]] * len(texts)
            if wh.query(f"select count(*) from {table} where {both}", params)[1][0][0]:
                found.append(f"{table}: {person['first_name']} {person['last_name']}")
    return found


def test_a_forgotten_customer_is_gone_everywhere_and_stays_gone(forked):
    landing = landing_of(forked)
    customers = expected.latest(landing, "customers", "customer_id")
    buyers = {o["customer_id"] for o in expected.latest_orders(landing).values()}
    person = next(c for c in sorted(customers.values(), key=lambda c: c["customer_id"])
                  if c["customer_id"] in buyers and c["email_address"] and c["phone_number"])  # fmt: skip
    assert traces(forked, person), "the customer was not in the warehouse to begin with"

    with env(forked):
        result = CliRunner().invoke(cli, ["forget", "--customer-id", person["customer_id"], "--reason", "ticket 42"])
    assert result.exit_code == 0, result.output
    assert "removed" in result.output
    assert traces(forked, person) == []
    with env(forked), connect(settings()) as wh:
        _, requests = wh.query("select reason, rows_removed from audit.erasure_requests")
    assert requests[0][0] == "ticket 42" and requests[0][1] > 0

    with env(forked), connect(settings()) as wh:  # every landing file read again, then every model
        for source in SOURCES.values():
            summary = load_source(wh, source, landing, force=True)
            assert summary.rows_read == summary.rows_loaded + summary.rows_rejected
    with env(forked):
        assert materialize_all()
    assert traces(forked, person) == []
    with env(forked), connect(settings()) as wh:
        _, [(set_aside,)] = wh.query(
            "select count(*) from raw.customers__rejects where reason like 'suppressed%' and record = '<erased>'"
        )
    versions = [c for c in all_records(landing, "customers") if c["customer_id"] == person["customer_id"]]
    assert set_aside == len(versions) > 0  # every CRM record of theirs, set aside without their data
