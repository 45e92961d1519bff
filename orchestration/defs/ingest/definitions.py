"""Ingest: one asset per source, a job and a schedule per cadence (hourly web events, daily customers and
transactions, weekly products, monthly brands; web events are partitioned by day and the hourly schedule
loads the new files of the current day), and the sensors of the near-real-time orders and of late files."""

import datetime as dt

import dagster as dg

from orchestration.defs.ingest.assets import ingest_assets
from orchestration.defs.ingest.late_files import late_file_sensor
from orchestration.defs.ingest.orders_sensor import orders_sensor
from orchestration.defs.ingest.partitions import CADENCES
from orchestration.defs.shared import RELOAD_TAG, WAREHOUSE_TAGS
from orchestration.lib.audiences import TABLE as AUDIENCES


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


orders_job = dg.define_asset_job(
    "orders_near_real_time",
    # the models train and score on their schedules, and the audiences and semantic tables follow
    # the marts through the automation sensor: neither waits in the path of a live order
    selection=dg.AssetSelection.assets(raw("orders"), raw("order_line_items")).downstream()
    - dg.AssetSelection.groups("ml")
    - dg.AssetSelection.assets(dg.AssetKey(AUDIENCES.split("."))).downstream()
    - dg.AssetSelection.groups("governance"),
    description="Load new shop orders and line items, then refresh the order models and customer_360.",
    tags=WAREHOUSE_TAGS,
)

job_for_source = {s: f"ingest_{cadence}" for cadence, (sources, _) in CADENCES.items() for s in sources}

defs = dg.Definitions(
    assets=ingest_assets,
    jobs=[*ingest_jobs.values(), orders_job],
    schedules=[*schedules, ingest_hourly_schedule],
    sensors=[orders_sensor(orders_job), late_file_sensor(list(ingest_jobs.values()), job_for_source)],
)
