"""The code location loads, and its graph runs from every landing source to customer_360."""

from dagster import AssetKey

from orchestration.definitions import defs
from simulator.landing import SOURCES


def test_definitions_load_and_the_job_covers_every_asset():
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    for source in SOURCES:
        assert AssetKey(["raw", source]) in keys
    assert AssetKey(["marts", "customer_360"]) in keys and AssetKey(["marts", "orders_enriched"]) in keys
    assert defs.resolve_job_def("c360_all") is not None


def test_lineage_runs_from_raw_sources_to_customer_360():
    graph = defs.resolve_asset_graph()
    upstream = graph.upstream_key_iterator(AssetKey(["marts", "customer_360"]))
    ancestors = set(upstream)
    frontier = list(ancestors)
    while frontier:
        for parent in graph.get(frontier.pop()).parent_keys:
            if parent not in ancestors:
                ancestors.add(parent)
                frontier.append(parent)
    assert {AssetKey(["raw", s]) for s in ("customers", "orders", "web_events", "products")} <= ancestors


def test_groups_follow_the_layers_and_dbt_tests_are_checks():
    graph = defs.resolve_asset_graph()
    assert graph.get(AssetKey(["raw", "orders"])).group_name == "ingest"
    assert graph.get(AssetKey(["staging", "stg_shop__orders"])).group_name == "staging"
    assert graph.get(AssetKey(["marts", "customer_360"])).group_name == "marts"
    checks = {c.asset_key for c in graph.asset_check_keys}
    assert AssetKey(["marts", "customer_360"]) in checks
