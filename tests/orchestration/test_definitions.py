"""The code location loads: its graph, cadences, schedules, sensors, automation and run safety."""

import datetime as dt
from pathlib import Path

import dagster as dg
import yaml
from dagster import AssetKey

from landing import SOURCES
from orchestration.definitions import defs
from orchestration.defs.ingest.definitions import ingest_hourly_schedule
from orchestration.defs.shared import RELOAD_TAG


def test_definitions_load_and_the_job_covers_every_asset():
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    for source in SOURCES:
        assert AssetKey(["raw", source]) in keys
    assert AssetKey(["marts", "customer_360"]) in keys and AssetKey(["marts", "orders_enriched"]) in keys


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
    assert graph.get(AssetKey(["staging", "stg_shop__order_versions"])).group_name == "staging"
    assert graph.get(AssetKey(["intermediate", "int_orders_current"])).group_name == "intermediate"
    assert graph.get(AssetKey(["marts", "customer_360"])).group_name == "marts"
    checks = {c.asset_key for c in graph.asset_check_keys}
    assert AssetKey(["marts", "customer_360"]) in checks


# The spec's cadence per source, and the cron a schedule at that cadence must have.
CRON = {"hourly": "0 * * * *", "daily": "0 0 * * *", "weekly": "0 0 * * 0", "monthly": "0 0 1 * *"}
STALE_AFTER = {"web_events": dt.timedelta(hours=2), "customers": dt.timedelta(hours=26),
               "products": dt.timedelta(days=8), "brands": dt.timedelta(days=32)}  # fmt: skip


def test_each_source_has_its_cadence_schedule_and_partitions():
    repo = defs.get_repository_def()
    graph = defs.resolve_asset_graph()
    schedules = {s.job_name: s for s in repo.schedule_defs}
    # one ingest schedule per cadence, plus weekly training and daily scoring of the models
    assert set(schedules) == {f"ingest_{c}" for c in CRON} | {
        "ml_training",
        "ml_scoring",
        "quality_full",
        "governance_retention",
    }
    assert schedules["ml_training"].cron_schedule == "0 3 * * 1"
    assert schedules["ml_scoring"].cron_schedule == "0 4 * * *"
    for name, source in SOURCES.items():
        if source.cadence not in CRON:
            continue
        job = repo.get_job(f"ingest_{source.cadence}")
        assert AssetKey(["raw", name]) in job.asset_layer.executable_asset_keys
        assert schedules[job.name].cron_schedule == CRON[source.cadence]
        partitions = graph.get(AssetKey(["raw", name])).partitions_def
        window = partitions.time_window_for_partition_key(partitions.get_first_partition_key())
        assert window.end - window.start >= {"hourly": dt.timedelta(hours=1), "daily": dt.timedelta(days=1),
                                             "weekly": dt.timedelta(days=7), "monthly": dt.timedelta(days=28)}[
            source.cadence]  # fmt: skip
    assert graph.get(AssetKey(["raw", "orders"])).partitions_def is None  # near real time: the sensor


def test_sensors_automation_and_freshness():
    repo = defs.get_repository_def()
    sensors = {s.name: s for s in repo.sensor_defs}
    assert sensors["c360_orders_sensor"].job_name == "orders_near_real_time"
    orders_job = repo.get_job("orders_near_real_time")
    assert AssetKey(["marts", "customer_360"]) in orders_job.asset_layer.executable_asset_keys
    automation = sensors["c360_automation"]
    assert isinstance(automation, dg.AutomationConditionSensorDefinition)
    assert automation.default_status == dg.DefaultSensorStatus.RUNNING
    assert "c360_run_failure_alert" in sensors and "c360_late_files_sensor" in sensors
    graph = defs.resolve_asset_graph()
    for mart in ("customer_360", "orders", "orders_enriched", "product_views"):
        assert graph.get(AssetKey(["marts", mart])).automation_condition is not None
    for name, limit in STALE_AFTER.items():
        policy = graph.get(AssetKey(["raw", name])).freshness_policy
        assert policy.fail_window.to_timedelta() == limit


def test_one_writer_per_warehouse_and_retries():
    config = yaml.safe_load((Path(__file__).parents[2] / "dagster.yaml").read_text())
    limits = config["run_queue"]["tag_concurrency_limits"]
    assert {"key": "c360/warehouse", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
    repo = defs.get_repository_def()
    for job in ("ingest_hourly", "ingest_daily", "orders_near_real_time", "c360_models"):
        assert "c360/warehouse" in repo.get_job(job).tags
    sensors = {s.name: s for s in repo.sensor_defs}
    assert "c360/warehouse" in sensors["c360_automation"].run_tags
    policy = defs.resolve_assets_def(AssetKey(["raw", "web_events"])).op.retry_policy
    assert policy.max_retries >= 2 and policy.backoff == dg.Backoff.EXPONENTIAL


def test_the_hourly_schedule_loads_the_new_files_of_the_day_of_the_hour_that_closed():
    for tick, day in ((dt.datetime(2026, 1, 2, 0, tzinfo=dt.UTC), "2026-01-01"),  # 23:00-24:00 closed
                      (dt.datetime(2026, 1, 2, 5, tzinfo=dt.UTC), "2026-01-02")):  # fmt: skip
        request = ingest_hourly_schedule(dg.build_schedule_context(scheduled_execution_time=tick))
        assert request.partition_key == day
        assert request.tags[RELOAD_TAG] == "changed"  # only the files not loaded yet
