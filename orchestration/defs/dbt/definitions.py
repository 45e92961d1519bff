"""The dbt models (and their tests as asset checks), the job that builds them all, and the sensor that
refreshes each model when its inputs change (declarative automation)."""

import dagster as dg

from orchestration.defs.dbt.assets import c360_dbt_models, dbt_resource
from orchestration.defs.dbt.project import model_keys
from orchestration.defs.shared import WAREHOUSE_TAGS
from orchestration.lib.audiences import TABLE as AUDIENCES

DBT = dg.AssetSelection.from_string("kind:dbt")

models_job = dg.define_asset_job(
    "c360_models",
    selection=DBT,
    description="Build every dbt model and test (incremental models take only what is new).",
    tags=WAREHOUSE_TAGS,
)

automation_sensor = dg.AutomationConditionSensorDefinition(
    "c360_automation",
    # the models and their dbt tests, the audiences, the semantic tables and the grants that follow them
    target=DBT
    | dg.AssetSelection.assets(dg.AssetKey(AUDIENCES.split(".")), dg.AssetKey(["governance", "grants"]))
    | dg.AssetSelection.groups("semantic")
    | dg.AssetSelection.checks_for_assets(*model_keys()),
    run_tags=WAREHOUSE_TAGS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Refreshes the dbt models when their inputs change (each model is eager).",
)

defs = dg.Definitions(
    assets=[c360_dbt_models], jobs=[models_job], sensors=[automation_sensor], resources={"dbt": dbt_resource}
)
