"""PII classification and the masked share views (docs/governance.md), on DuckDB and Postgres.

Masked values are checked against values computed here from the landing files; a column that looks
like personal data (by name or by content) must be classified; a PII column added to a mart later is
masked in both shares without any change to the masking code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from c360_core.settings import settings
from c360_core.warehouse import connect
from governance import docs
from governance.pii import DBT_PROJECT, classified
from orchestration.defs.dbt.project import dbt_env, ensure_manifest
from orchestration.lib.load import META
from tests.support import expected
from tests.support.warehouse import AS_OF, env, landing_of

SCHEMAS = ("raw", "staging", "intermediate", "marts", "ml", "semantic")
AGE_BANDS = [(18, "under 18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64")]
INCOME_BANDS = [(25000, "under 25k"), (50000, "25k-50k"), (75000, "50k-75k"), (100000, "75k-100k"),
                (150000, "100k-150k")]  # fmt: skip


def band(value: float | None, bands: list, top: str) -> str | None:
    if value is None:
        return None
    return next((name for limit, name in bands if value < limit), top)


def digest(salt: str, value) -> str | None:
    return None if value is None else hashlib.sha256(f"{salt}{value}".encode()).hexdigest()


def latest_customers(landing: Path) -> dict[str, dict]:
    return expected.latest(landing, "customers", "customer_id")


def rows(built: dict, sql: str) -> list[tuple]:
    with env(built), connect(settings()) as wh:
        return wh.query(sql)[1]


def test_docs_list_every_classified_column():
    page = docs.DOC.read_text()
    assert docs.rendered(page) == page, "docs/governance.md is out of date: run python -m governance.docs"


def dbt_relations() -> set[str]:
    """Every model and source of the dbt project (the saved-query tables are aggregates, not dbt's)."""
    manifest = json.loads(ensure_manifest().read_text())
    nodes = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    return {f"{n['schema']}.{n['alias']}" for n in nodes} | {
        f"{s['schema']}.{s['name']}" for s in manifest["sources"].values()
    }


# The personal columns of the spec's Customer schema (customer-360-v2.md, DATA SCHEMAS) and the web ids that
# name a person, written out here, not taken from governance/pii.py: a warehouse column of one of these names
# is personal data wherever it lands.
PERSONAL_NAMES = {"customer_id", "first_name", "last_name", "gender", "phone_number", "email_address",
                  "date_of_birth", "age", "education_level", "marital_status", "number_of_children", "occupation",
                  "hobbies", "annual_income", "mailing_street", "city", "state", "country", "zipcode",
                  "entity_id", "anonymous_id", "billing_address", "shipping_address"}  # fmt: skip


def personal_values(landing: Path) -> set[str]:
    """Values that identify a person, from the CRM files: ids, emails, phones, streets and full names."""
    out = set()
    for c in expected.latest(landing, "customers", "customer_id").values():
        out |= {c["customer_id"], c["email_address"], c["phone_number"], c["mailing_street"],
                f"{c['first_name']} {c['last_name']}"}  # fmt: skip
    return {v for v in out if v}


def test_every_column_that_holds_personal_data_is_classified(built):
    """By name (the spec's personal columns) and by value (a text column where a CRM id, email, phone, street
    or full name appears): each such column of a dbt model or source is classified in the dbt metadata."""
    known = {(c.relation, c.column) for c in classified()}
    relations, values = dbt_relations(), personal_values(landing_of(built))
    with env(built), connect(settings()) as wh:
        _, columns = wh.query(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            f"where table_schema in ({', '.join(repr(s) for s in SCHEMAS)}) and table_name not like '%\\_\\_rejects' "
            "escape '\\' order by 1, 2"
        )
        missing, found = [], 0
        for schema, table, column, kind in columns:
            relation = f"{schema}.{table}"
            if relation not in relations or column in META:  # the loaders' own columns (ids, files, lines)
                continue
            personal = column in PERSONAL_NAMES
            if not personal and kind.lower() in ("varchar", "text", "character varying"):
                _, sample = wh.query(f'select distinct "{column}" from {relation} where "{column}" is not null '
                                     "limit 500")  # fmt: skip
                personal = any(any(v in str(s) for v in values) for (s,) in sample if len(str(s)) < 200)
            found += personal
            if personal and (relation, column) not in known:
                missing.append(f"{relation}.{column}")
    assert found > 50, "the warehouse holds personal data in many places: the search found too few"
    assert missing == [], "unclassified personal columns:\n" + "\n".join(missing)


def test_marketing_sees_bands_and_contacts(built):
    want = latest_customers(landing_of(built))
    got = rows(built, "select customer_id, email_address, phone_number, age_band, income_band "
                      "from share_marketing.customer_360")  # fmt: skip
    assert len(got) == len(want)
    for customer, email, phone, age_band, income_band in got:
        c = want[customer]
        born = dt.date.fromisoformat(c["date_of_birth"]) if c["date_of_birth"] else None
        age = math.floor((AS_OF - born).days / 365.25) if born else None
        income = float(c["annual_income"]) if c["annual_income"] else None
        assert (email, phone) == (c["email_address"] or None, c["phone_number"] or None), customer
        assert age_band == band(age, AGE_BANDS, "65+"), customer
        assert income_band == band(income, INCOME_BANDS, "150k+"), customer
    sql = (
        "select column_name from information_schema.columns "
        "where table_schema = 'share_marketing' and table_name = 'customer_360'"
    )
    columns = {r[0] for r in rows(built, sql)}
    assert not columns & {"age", "date_of_birth", "annual_income"}


def test_consumers_see_salted_hashes_that_still_join(built):
    salt = built["C360_PII_SALT"]
    want = latest_customers(landing_of(built))
    got = rows(built, "select customer_id, first_name, email_address, date_of_birth, state, orders_count "
                      "from share_consumer.customer_360")  # fmt: skip
    fields = ("customer_id", "first_name", "email_address", "date_of_birth", "state")
    expected = {tuple(digest(salt, c[f] or None) for f in fields) for c in want.values()}
    assert {r[:5] for r in got} == expected
    joined = "select count(*) from {s}.orders as o join {s}.customers as c on o.customer_id = c.customer_id"
    assert rows(built, joined.format(s="share_consumer")) == rows(built, joined.format(s="marts")) != [(0,)]


@pytest.mark.parametrize("built", ["duckdb"], indirect=True)
def test_a_pii_column_added_later_is_masked_in_both_shares(built, tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    model = project / "models" / "marts" / "core" / "customers.sql"
    listed = "        {{ crm_profile_columns() }}\n"  # the CRM's columns, annual_income among them
    assert listed in model.read_text()
    model.write_text(model.read_text().replace(listed, listed + "        annual_income * 2 as household_income,\n"))
    yml = project / "models" / "marts" / "core" / "_core__models.yml"
    yml.write_text(yml.read_text().replace(
        "  - name: products\n",
        "      - name: household_income\n        data_type: double precision\n"
        "        meta: {pii: true, pii_category: sensitive, masking: income_band}\n"
        "  - name: products\n", 1))  # fmt: skip
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built["C360_DUCKDB_PATH"], warehouse)
    child = {**built, "C360_DUCKDB_PATH": str(warehouse)}
    dbt = Path(sys.executable).parent / "dbt"
    with env(child), env(dbt_env()):  # every setting, as c360 passes them to dbt
        done = subprocess.run([str(dbt), "run", "--select", "customers", "--project-dir", str(project),
                               "--profiles-dir", str(project), "--target-path", str(tmp_path / "target")],
                              capture_output=True, text=True, check=False, timeout=600)  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:]
        with connect(settings()) as wh:
            _, got = wh.query(
                "select c.annual_income, m.household_income_band, s.household_income from marts.customers as c "
                "join share_marketing.customers as m on m.customer_id = c.customer_id "
                "join share_consumer.customers as s on s.customer_id = "
                f"sha256('{built['C360_PII_SALT']}' || c.customer_id)"
            )
    assert got
    for income, marketing, consumer in got:
        household = income * 2 if income is not None else None
        assert marketing == band(household, INCOME_BANDS, "150k+")
        assert consumer == digest(built["C360_PII_SALT"], household)  # a double as text: its shortest form
