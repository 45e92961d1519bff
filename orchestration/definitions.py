"""The c360 Dagster code location (loaded through workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.dbt.assets import c360_dbt_models, dbt_resource
from orchestration.defs.ingest.assets import ingest_assets

# DuckDB allows one writing process per file: run steps one after another in one process,
# so the loaders and the dbt subprocess never hold the warehouse at the same time.
all_assets_job = dg.define_asset_job(
    "c360_all",
    selection=dg.AssetSelection.all(),
    description="Load every source and build every dbt model and test.",
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    assets=[*ingest_assets, c360_dbt_models],
    jobs=[all_assets_job],
    resources={"dbt": dbt_resource},
    executor=dg.in_process_executor,
)
