"""`c360 grants apply`: make PostgreSQL's roles, privileges and row-level security match access.yml.

Idempotent, and it converges: every managed role (name starting c360_) first loses every privilege in
the warehouse database, then gets what the file grants; a managed role the file no longer names is
dropped. Roles that read the shares and the semantic layer never get a relation outside the shares that
holds classified PII. Row-level security is (re)applied to every mart that has a customer key, because dbt recreates
tables on each build (and a recreated table has neither grants nor policies until the next apply: it
fails closed). Statements of the managed roles are logged by the server (log_statement = 'all').
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import yaml
from psycopg import sql

from c360_core.settings import Settings, settings
from c360_core.warehouse import SCHEMAS
from governance.pii import classified

PREFIX = "c360_"
SHARES = ("share_marketing", "share_consumer")
CUSTOMER_KEYS = ("customer_id", "entity_id")  # a mart row belongs to the customer in either column
POLICY = "c360_region"


@dataclass
class Access:
    everything: list[str]
    schemas: dict[str, list[str]]
    regions: dict[str, list[str]]

    @property
    def analysts(self) -> dict[str, list[str]]:
        return {f"{PREFIX}analyst_{region}": states for region, states in self.regions.items()}

    @property
    def roles(self) -> list[str]:
        return sorted({*self.everything, *self.schemas, *self.analysts})


@dataclass
class Applied:
    roles: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    policies: int = 0


def load_access(path: Path | None = None) -> Access:
    path = path or settings().access_file
    doc = yaml.safe_load(path.read_text())
    everything, schemas = [], {}
    for role, grant in (doc.get("roles") or {}).items():
        if not role.startswith(PREFIX):
            raise ValueError(f"{path}: role {role!r} must start with {PREFIX!r} (c360 manages only its own roles)")
        if grant.get("sees") == "everything":
            everything.append(role)
        else:
            schemas[role] = list(grant.get("schemas") or [])
    regions = {str(r): [str(s) for s in states] for r, states in (doc.get("regions") or {}).items()}
    return Access(everything, schemas, regions)


def _schemas(con) -> list[str]:
    wanted = [*SCHEMAS, *SHARES, "governance"]
    rows = con.execute("select nspname from pg_namespace where nspname = any(%s)", [wanted]).fetchall()
    return sorted(r[0] for r in rows)


def _customer_tables(con) -> list[tuple[str, str, str]]:
    """(schema, table, key column) of every mart table with a customer key."""
    rows = con.execute(
        """
        select c.table_schema, c.table_name, min(c.column_name)
        from information_schema.columns as c
        join information_schema.tables as t using (table_schema, table_name)
        where c.table_schema = 'marts' and t.table_type = 'BASE TABLE' and c.column_name = any(%s)
        group by 1, 2 order by 1, 2
        """,
        [list(CUSTOMER_KEYS)],
    ).fetchall()
    return [(s, t, k) for s, t, k in rows]


def _region_function(con, access: Access) -> None:
    """governance.region_customers(region): the customers of a region, read with the owner's rights (no RLS)."""
    con.execute("create schema if not exists governance")
    con.execute("create table if not exists governance.region_states (region text, state text)")
    con.execute("delete from governance.region_states")
    for region, states in access.regions.items():
        for state in states:
            con.execute("insert into governance.region_states values (%s, %s)", [region, state])
    con.execute("""
        create or replace function governance.region_customers(region_name text) returns setof text
        language sql stable security definer set search_path = pg_catalog, pg_temp as $$
            select c.customer_id from marts.customers as c
            join governance.region_states as r on r.state = c.state
            where r.region = region_name
        $$
    """)
    con.execute("revoke all on function governance.region_customers(text) from public")


def _reset(con, role: str, schemas: list[str]) -> None:
    ident = sql.Identifier(role)
    for schema in schemas:
        s = sql.Identifier(schema)
        con.execute(sql.SQL("revoke all on all tables in schema {} from {}").format(s, ident))
        con.execute(sql.SQL("revoke all on schema {} from {}").format(s, ident))
    con.execute(sql.SQL("revoke all on function governance.region_customers(text) from {}").format(ident))


def _grant_read(con, role: str, schemas: list[str], write: bool = False) -> None:
    ident = sql.Identifier(role)
    privileges = sql.SQL("all privileges" if write else "select")
    for schema in schemas:
        s = sql.Identifier(schema)
        con.execute(sql.SQL("grant usage on schema {} to {}").format(s, ident))
        con.execute(sql.SQL("grant {} on all tables in schema {} to {}").format(privileges, s, ident))


def _grant_shared(con, role: str, schemas: list[str]) -> None:
    """Read on the schemas, except relations outside the share schemas that hold classified PII
    (the semantic layer's activity streams carry customer ids; its saved-query tables are aggregates)."""
    ident = sql.Identifier(role)
    personal = {c.relation for c in classified()}
    for schema in schemas:
        con.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), ident))
        tables = con.execute("select table_name from information_schema.tables where table_schema = %s",
                             [schema]).fetchall()  # fmt: skip
        for (table,) in tables:
            if schema in SHARES or f"{schema}.{table}" not in personal:
                con.execute(sql.SQL("grant select on {} to {}").format(sql.Identifier(schema, table), ident))


def apply(cfg: Settings, access: Access | None = None) -> Applied:
    """Make the server match the access file; returns what was done."""
    access = access or load_access()
    out = Applied()
    with psycopg.connect(cfg.pg_dsn, autocommit=True) as con:
        _region_function(con, access)
        schemas = _schemas(con)
        existing = [r[0] for r in con.execute("select rolname from pg_roles where rolname like %s",
                                              [PREFIX.replace("_", r"\_") + "%"]).fetchall()]  # fmt: skip
        for role in sorted(set(existing) - set(access.roles)):  # no longer granted: nothing, then gone
            _reset(con, role, schemas)
            con.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
            try:
                con.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))
            except psycopg.errors.DependentObjectsStillExist:  # another database still grants it something
                con.execute(sql.SQL("alter role {} nologin").format(sql.Identifier(role)))
            out.dropped.append(role)
        for role in access.roles:
            ident = sql.Identifier(role)
            if role not in existing:
                con.execute(sql.SQL("create role {} login").format(ident))
            everything = role in access.everything
            bypass = sql.SQL("bypassrls" if everything else "nobypassrls")  # stewards and producers: no row filter
            con.execute(sql.SQL("alter role {} login {}").format(ident, bypass))  # login again, if it was taken
            con.execute(sql.SQL("alter role {} set log_statement = 'all'").format(ident))
            _reset(con, role, schemas)
            if everything:
                _grant_read(con, role, schemas, write=True)
            elif role in access.schemas:
                _grant_shared(con, role, [s for s in access.schemas[role] if s in schemas])
            else:  # a regional analyst: the marts, filtered by the policies below
                _grant_read(con, role, ["marts"])
                con.execute(sql.SQL("grant usage on schema governance to {}").format(ident))
                con.execute(sql.SQL("grant execute on function governance.region_customers(text) to {}").format(ident))
            out.roles.append(role)
        out.policies = _policies(con, access)
    return out


def _policies(con, access: Access) -> int:
    """Row-level security on every customer-keyed mart: each analyst sees its region's customers."""
    count = 0
    for schema, table, key in _customer_tables(con):
        target = sql.Identifier(schema, table)
        con.execute(sql.SQL("alter table {} enable row level security").format(target))
        policies = con.execute("select policyname from pg_policies where schemaname = %s and tablename = %s",
                               [schema, table]).fetchall()  # fmt: skip
        for (name,) in policies:
            if name.startswith(POLICY):
                con.execute(sql.SQL("drop policy {} on {}").format(sql.Identifier(name), target))
        for role, region in ((f"{PREFIX}analyst_{r}", r) for r in access.regions):
            con.execute(
                sql.SQL("create policy {} on {} for select to {} "
                        "using ({} in (select governance.region_customers({})))")
                .format(sql.Identifier(f"{POLICY}_{region}"), target, sql.Identifier(role), sql.Identifier(key),
                        sql.Literal(region))
            )  # fmt: skip
            count += 1
    return count
