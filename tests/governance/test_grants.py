"""Roles on PostgreSQL, each tested over its own login: what it may read, what it may not, and the rows
row-level security leaves it. The pipeline applied governance/access.yml after the models.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
import yaml

from c360_core.settings import settings
from governance.grants import apply, load_access
from tests.support import expected
from tests.support.warehouse import env, landing_of

ACCESS = Path(__file__).resolve().parents[2] / "governance" / "access.yml"  # the committed roles

ON_POSTGRES = pytest.mark.parametrize("built", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


def login(built: dict, role: str) -> psycopg.Connection:
    return psycopg.connect(f"host=127.0.0.1 port=5432 user={role} dbname={built['C360_PG_DATABASE']}", autocommit=True)


def can_read(built: dict, role: str, relation: str) -> bool:
    with login(built, role) as con:
        try:
            con.execute(f"select * from {relation} limit 1").fetchall()
        except psycopg.errors.InsufficientPrivilege:
            return False
    return True


@ON_POSTGRES
def test_each_role_reads_what_it_may_and_nothing_else(built):
    allowed = {
        "c360_steward": ["raw.customers", "marts.customer_360", "share_consumer.customers", "audit.load_runs"],
        "c360_producer": ["raw.web_events", "marts.orders", "quality.dataset_scores"],
        "c360_marketing": ["share_marketing.customer_360", "semantic.time_spine_daily", "semantic.daily_kpis"],
        "c360_consumer": ["share_consumer.customer_360", "semantic.time_spine_daily", "semantic.daily_kpis"],
        "c360_analyst_west": ["marts.customer_360", "marts.products"],
    }
    forbidden = {
        # the semantic activity streams carry customer ids: not for the share roles
        "c360_marketing": [
            "marts.customer_360",
            "raw.customers",
            "share_consumer.customers",
            "semantic.sl_product_views",
        ],
        "c360_consumer": ["marts.customer_360", "share_marketing.customers", "raw.orders", "semantic.sl_favorites"],
        "c360_analyst_west": ["raw.customers", "share_marketing.customers", "audit.load_runs"],
    }
    for role, relations in allowed.items():
        for relation in relations:
            assert can_read(built, role, relation), f"{role} cannot read {relation}"
    for role, relations in forbidden.items():
        for relation in relations:
            assert not can_read(built, role, relation), f"{role} can read {relation}"


@ON_POSTGRES
def test_regional_analysts_see_only_their_customers_and_their_facts(built):
    landing = landing_of(built)
    customers = expected.latest(landing, "customers", "customer_id")
    orders = expected.latest_orders(landing)
    regions = load_access().regions
    seen_anyone = False
    for region, states in regions.items():
        mine = {c for c, r in customers.items() if r["state"] in states}
        with login(built, f"c360_analyst_{region}") as con:
            got = {r[0] for r in con.execute("select customer_id from marts.customer_360").fetchall()}
            got_orders = {r[0] for r in con.execute("select order_id from marts.orders").fetchall()}
            sessions = con.execute("select count(*) from marts.web_sessions where customer_id is null").fetchall()
        assert got == mine, region
        assert got_orders == {o for o, r in orders.items() if r["customer_id"] in mine}, region
        assert sessions == [(0,)]  # anonymous sessions belong to no region
        seen_anyone = seen_anyone or bool(mine)
    assert seen_anyone
    with login(built, "c360_steward") as con:  # no row filter for stewards
        assert con.execute("select count(*) from marts.customer_360").fetchall() == [(len(customers),)]


@ON_POSTGRES
def test_apply_is_idempotent_and_revokes_what_the_file_no_longer_grants(forked, tmp_path: Path):
    with env(forked):
        first = apply(settings())
        again = apply(settings())
    assert first.roles == again.roles and first.policies == again.policies > 0 and not again.dropped
    doc = yaml.safe_load(ACCESS.read_text())
    doc["roles"]["c360_marketing"]["schemas"] = ["share_marketing"]  # no more semantic
    del doc["regions"]["midwest"]
    narrower = tmp_path / "access.yml"
    narrower.write_text(yaml.safe_dump(doc))
    try:
        with env({**forked, "C360_ACCESS": str(narrower)}):
            done = apply(settings())
        assert done.dropped == ["c360_analyst_midwest"]
        assert not can_read(forked, "c360_marketing", "semantic.time_spine_daily")
        assert can_read(forked, "c360_marketing", "share_marketing.customers")
        with pytest.raises(psycopg.OperationalError):  # dropped, or unable to log in where still referenced
            login(forked, "c360_analyst_midwest").close()
    finally:
        with env(forked):
            apply(settings())  # the roles are the server's, not the database's: put them back
    assert can_read(forked, "c360_analyst_midwest", "marts.customer_360")


def test_access_file_roles_must_be_c360_roles(tmp_path: Path):
    bad = tmp_path / "access.yml"
    shutil.copy(ACCESS, bad)
    bad.write_text(bad.read_text().replace("c360_steward:", "postgres:"))
    with pytest.raises(ValueError, match="must start with 'c360_'"):
        load_access(bad)
