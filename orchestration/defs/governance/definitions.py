"""Governance: grants after the marts (PostgreSQL roles and row-level security), and the daily retention."""

import dagster as dg

from orchestration.defs.governance.assets import grants, retention
from orchestration.defs.shared import WAREHOUSE_TAGS

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

defs = dg.Definitions(assets=[grants, retention], jobs=[retention_job], schedules=[retention_schedule])
