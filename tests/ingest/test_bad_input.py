"""The catalogue of bad input (bad_input.py), planted file by file in a copy of a built warehouse's landing
zone, then one `c360 materialize` on each target: every file is in the audit with counts that reconcile,
every bad record is a reject with its reason, the valid oddities arrive as they should, a refused file holds
back only the models below its own source, and no non-finite number reaches any table."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from c360_core.settings import settings
from c360_core.warehouse import SCHEMAS, connect
from orchestration.definitions import defs
from orchestration.defs.dbt.project import manifest
from tests.support.bad_input import Kind, catalogue, plant
from tests.support.warehouse import env, fork, landing_of, materialize_all, target_env

DOCS = Path(__file__).resolve().parents[2] / "docs" / "landing-zone.md"


@pytest.fixture(scope="module")
def planted(built, tmp_path_factory) -> Iterator[tuple[dict, list[Kind], set[str]]]:
    """A copy of the built warehouse after one materialize of the planted files: its environment, the kinds,
    and the dbt models that run materialized."""
    values = target_env(built["C360_TARGET"], tmp_path_factory.mktemp("bad-input"), f"c360_test_{uuid.uuid4().hex[:8]}")
    with fork(built, values):
        kinds = catalogue(landing_of(values))
        plant(landing_of(values), kinds)
        with env(values), dg.DagsterInstance.ephemeral() as instance:
            ok = materialize_all(instance=instance)
            models = {n for n, node in manifest()["nodes"].items() if node["resource_type"] == "model"}
            built_now = {
                unique_id
                for unique_id in models
                if instance.fetch_materializations(_key(manifest()["nodes"][unique_id]), limit=1).records
            }
        assert not ok, "refused files fail the materialize (the rest goes on)"
        yield values, kinds, built_now


def _key(node: dict) -> dg.AssetKey:
    return dg.AssetKey([node["schema"], node["name"]])


def rows(values: dict, sql: str, params: list | None = None) -> list[tuple]:
    with env(values), connect(settings()) as wh:
        return wh.query(sql, params)[1]


def test_the_catalogue_has_at_least_thirty_kinds_across_every_source_and_category(planted):
    _, kinds, _ = planted
    assert len(kinds) >= 30
    assert {k.source for k in kinds} == {"customers", "products", "brands", "orders", "order_line_items",
                                         "transactions", "web_events"}  # fmt: skip
    assert {k.category for k in kinds} == {"encoding", "types", "numbers", "dates", "structure", "size", "nesting",
                                           "xml", "file"}  # fmt: skip


def test_every_file_is_in_the_audit_and_its_counts_reconcile(planted):
    values, kinds, _ = planted
    for kind in kinds:
        [(status, error, read, loaded, rejected)] = rows(values, """
            select status, error, rows_read, rows_loaded, rows_rejected from audit.load_runs
            where file = ? order by finished_at desc limit 1
        """, [kind.rel])  # fmt: skip
        [(in_raw,)] = rows(values, f"select count(*) from raw.{kind.source} where _source_file = ?", [kind.rel])
        [(set_aside,)] = rows(values, f"select count(*) from raw.{kind.source}__rejects where _source_file = ?",
                              [kind.rel])  # fmt: skip
        if kind.refused:
            assert (status, in_raw, set_aside) == ("failed", 0, 0), kind.name
            assert kind.refused in error, f"{kind.name}: {error}"
        else:
            assert status == "loaded", f"{kind.name}: {error}"
            counts = (kind.loads + len(kind.rejects), kind.loads, len(kind.rejects))
            assert (read, loaded, rejected) == counts, kind.name
            assert (in_raw, set_aside) == (kind.loads, len(kind.rejects)), kind.name


def test_every_bad_record_is_a_reject_with_its_reason(planted):
    values, kinds, _ = planted
    for kind in (k for k in kinds if k.rejects):
        found = dict(rows(values, f"select _line, reason from raw.{kind.source}__rejects where _source_file = ?",
                          [kind.rel]))  # fmt: skip
        assert set(found) == set(kind.rejects), kind.name
        for line, reason in kind.rejects.items():
            assert reason in found[line], f"{kind.name}: line {line}: {found[line]!r}"


def test_valid_oddities_arrive_as_they_should(planted):
    values, kinds, _ = planted
    for kind in (k for k in kinds if k.arrives):
        sql, want = kind.arrives
        [(got,)] = rows(values, sql)
        assert got == (pytest.approx(want) if isinstance(want, float) else want), kind.name


def test_a_refused_file_holds_back_only_the_models_below_its_source(planted):
    """Below, in the whole asset graph: through the Python assets between dbt models too (the audiences)."""
    _, kinds, built_now = planted
    refused = {k.source for k in kinds if k.refused}
    assert refused == {"customers", "products", "brands"}
    graph = defs.resolve_asset_graph()
    held, todo = set(), [dg.AssetKey(["raw", s]) for s in refused]
    while todo:
        for child in graph.get(todo.pop()).child_keys:
            if child not in held:
                held.add(child)
                todo.append(child)
    nodes = manifest()["nodes"]
    models = {_key(n): uid for uid, n in nodes.items() if n["resource_type"] == "model"}
    held_models = {uid for key, uid in models.items() if key in held}
    assert held_models and set(models.values()) - held_models, "some models are below the refusing sources"
    assert built_now & held_models == set()
    # a staging view over an ML asset's table alone (its source's asset is not in this run's selection) runs in
    # the dbt step after the ML assets, which waits for every model before them: it waits for the next run
    parents = {uid: nodes[uid]["depends_on"]["nodes"] for uid in models.values()}
    waiting = {uid for uid, up in parents.items() if up and all(d.startswith("source.c360.ml.") for d in up)}
    assert built_now == set(models.values()) - held_models - waiting


def test_no_non_finite_number_reaches_any_table(planted):
    values, _, _ = planted
    postgres = values["C360_TARGET"] == "postgres"
    marks = ", ".join(f"'{s}'" for s in SCHEMAS)
    columns = rows(values, f"""
        select table_schema, table_name, column_name from information_schema.columns
        where table_schema in ({marks})
          and lower(data_type) in ('double', 'double precision', 'real', 'float', 'numeric', 'decimal')
    """)  # fmt: skip
    assert len(columns) > 20
    bad = []
    for schema, table, column in columns:
        value = f'cast("{column}" as double precision)'
        test = f"{value} in ('NaN', 'Infinity', '-Infinity')" if postgres else f"not isfinite({value})"
        [(n,)] = rows(values, f'select count(*) from "{schema}"."{table}" where {test}')
        if n:
            bad.append(f"{schema}.{table}.{column}: {n}")
    assert bad == []
    assert not math.isnan(rows(values, "select sum(total_amount) from raw.orders")[0][0])


def test_the_catalogue_is_documented_kind_by_kind(landing):
    documented = set(re.findall(r"^\| `(\w+)` \|", DOCS.read_text(), flags=re.M))
    assert documented >= {k.name for k in catalogue(landing)}
