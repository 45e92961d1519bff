"""The c360 Dagster code location (loaded through workspace.yaml).

- Each time-partitioned source has a job and a schedule at its cadence (hourly web events, daily
  customers and transactions, weekly products, monthly brands); web events are partitioned by day and
  the hourly schedule loads the new files of the current day.
- Orders and line items load when the orders sensor sees a change, with the order models.
- The dbt models refresh by declarative automation when their inputs change.
- Each Soda contract's checks are asset checks on its dataset, run with every materialization.
- The ML models train weekly (features, training, champion gate, scoring, customer_360) and score
  daily with the champion (features, scoring, customer_360); docs/ml.md.
- Every run carries c360/warehouse=<target>; dagster.yaml lets one such run write at a time.
"""

import datetime as dt

import dagster as dg

from orchestration.defs.audiences.assets import audience_assignments
from orchestration.defs.dbt.assets import c360_dbt_models, dbt_resource
from orchestration.defs.governance.assets import grants, retention
from orchestration.defs.ingest.assets import RELOAD_TAG, ingest_assets
from orchestration.defs.ingest.partitions import CADENCES
from orchestration.defs.ml.assets import SCORING, TRAINING, ml_assets
from orchestration.defs.quality.checks import VERIFY_TAG, quality_checks
from orchestration.defs.semantic.assets import semantic_assets
from orchestration.defs.sensors.alerts import run_failure_alert
from orchestration.defs.sensors.late_files import late_file_sensor
from orchestration.defs.sensors.orders import orders_sensor
from orchestration.lib.instance import warehouse_tags

WAREHOUSE_TAGS = warehouse_tags()


def raw(name: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", name])


ingest_jobs = {
    cadence: dg.define_asset_job(
        f"ingest_{cadence}",
        selection=dg.AssetSelection.assets(*[raw(s) for s in sources]),
        description=f"Load one {cadence} partition of {', '.join(sources)} from the landing zone.",
        tags=WAREHOUSE_TAGS,
    )
    for cadence, (sources, _) in CADENCES.items()
}
schedules = [
    # the cron comes from the partitioning (each run loads the period that just closed)
    dg.build_schedule_from_partitioned_job(ingest_jobs[cadence], name=f"ingest_{cadence}_schedule", tags=WAREHOUSE_TAGS)
    for cadence in CADENCES
    if cadence != "hourly"
]


@dg.schedule(
    job=ingest_jobs["hourly"],
    cron_schedule=CADENCES["hourly"][1],
    execution_timezone="UTC",
    name="ingest_hourly_schedule",
    description="Every hour: the web events of the day of the hour that just closed, new files only.",
)
def ingest_hourly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    hour = context.scheduled_execution_time.astimezone(dt.UTC) - dt.timedelta(hours=1)
    return dg.RunRequest(
        run_key=f"web_events:{hour:%Y-%m-%dT%H}",
        partition_key=f"{hour:%Y-%m-%d}",
        tags={**WAREHOUSE_TAGS, RELOAD_TAG: "changed"},
    )


schedules.append(ingest_hourly_schedule)

orders_job = dg.define_asset_job(
    "orders_near_real_time",
    # the models train and score on their schedules, and the audiences and semantic tables follow
    # the marts through the automation sensor: neither waits in the path of a live order
    selection=dg.AssetSelection.assets(raw("orders"), raw("order_line_items")).downstream()
    - dg.AssetSelection.groups("ml")
    - dg.AssetSelection.assets(audience_assignments).downstream()
    - dg.AssetSelection.groups("governance"),
    description="Load new shop orders and line items, then refresh the order models and customer_360.",
    tags=WAREHOUSE_TAGS,
)
models_job = dg.define_asset_job(
    "c360_models",
    selection=dg.AssetSelection.assets(c360_dbt_models),
    description="Build every dbt model and test (incremental models take only what is new).",
    tags=WAREHOUSE_TAGS,
)

CUSTOMER_360 = dg.AssetKey(["marts", "customer_360"])
ml_features = dg.AssetSelection.groups("ml") & dg.AssetSelection.assets(c360_dbt_models)
ml_training_job = dg.define_asset_job(
    "ml_training",
    selection=ml_features | dg.AssetSelection.assets(*TRAINING, *SCORING, CUSTOMER_360),
    description="Rebuild the ML features, train every model family, run the champion gates, score with the "
    "champions and refresh customer_360.",
    tags=WAREHOUSE_TAGS,
)
ml_scoring_job = dg.define_asset_job(
    "ml_scoring",
    selection=ml_features | dg.AssetSelection.assets(*SCORING, CUSTOMER_360),
    description="Rebuild the ML features for today, score every customer with each champion, refresh customer_360.",
    tags=WAREHOUSE_TAGS,
)
quality_full_job = dg.define_asset_job(
    "quality_full",
    # the Soda contracts and the dbt tests (hourly runs test only the new rows of the big web models)
    selection=dg.AssetSelection.checks(*quality_checks) | dg.AssetSelection.checks_for_assets(c360_dbt_models),
    description="Verify every row of every Soda contract and run every dbt test on every row (hourly runs "
    "verify only the new rows).",
    tags={**WAREHOUSE_TAGS, VERIFY_TAG: "full"},
)
quality_full_schedule = dg.ScheduleDefinition(
    job=quality_full_job, cron_schedule="0 2 * * *", name="quality_full_daily", execution_timezone="UTC",
    tags={**WAREHOUSE_TAGS, VERIFY_TAG: "full"},
)  # fmt: skip
retention_job = dg.define_asset_job(
    "governance_retention",
    selection=dg.AssetSelection.assets(retention),
    description="Delete raw rows past their retention (governance/retention.yml) and log what went.",
    tags=WAREHOUSE_TAGS,
)
retention_schedule = dg.ScheduleDefinition(
    job=retention_job, cron_schedule="0 1 * * *", name="governance_retention_daily", execution_timezone="UTC",
    tags=WAREHOUSE_TAGS,
)  # fmt: skip
ml_schedules = [
    dg.ScheduleDefinition(job=ml_training_job, cron_schedule="0 3 * * 1", name="ml_training_weekly",
                          execution_timezone="UTC", tags=WAREHOUSE_TAGS),
    dg.ScheduleDefinition(job=ml_scoring_job, cron_schedule="0 4 * * *", name="ml_scoring_daily",
                          execution_timezone="UTC", tags=WAREHOUSE_TAGS),
]  # fmt: skip

automation_sensor = dg.AutomationConditionSensorDefinition(
    "c360_automation",
    # the models, their dbt tests and the Soda contract checks of the marts
    target=dg.AssetSelection.assets(c360_dbt_models, audience_assignments, *semantic_assets, grants)
    | dg.AssetSelection.checks_for_assets(c360_dbt_models),
    run_tags=WAREHOUSE_TAGS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Refreshes the dbt models when their inputs change (each model is eager).",
)

job_for_source = {s: f"ingest_{cadence}" for cadence, (sources, _) in CADENCES.items() for s in sources}

defs = dg.Definitions(
    assets=[*ingest_assets, c360_dbt_models, audience_assignments, *semantic_assets, *ml_assets, grants, retention],
    asset_checks=quality_checks,
    jobs=[
        *ingest_jobs.values(),
        orders_job,
        models_job,
        ml_training_job,
        ml_scoring_job,
        quality_full_job,
        retention_job,
    ],
    schedules=[*schedules, *ml_schedules, quality_full_schedule, retention_schedule],
    sensors=[
        orders_sensor(orders_job),
        late_file_sensor(list(ingest_jobs.values()), job_for_source),
        automation_sensor,
        run_failure_alert,
    ],
    resources={"dbt": dbt_resource},
    # DuckDB allows one writing process per file: steps run one after another in one process,
    # so the loaders and the dbt subprocess never hold the warehouse at the same time.
    executor=dg.in_process_executor,
)
