"""Models: weekly training (features, training, champion gate, scoring, customer_360) and daily scoring
with the champion (features, scoring, customer_360); docs/ml.md."""

import dagster as dg

from orchestration.defs.ml.assets import SCORING, TRAINING, ml_assets
from orchestration.defs.shared import WAREHOUSE_TAGS

CUSTOMER_360 = dg.AssetKey(["marts", "customer_360"])
ml_features = dg.AssetSelection.groups("ml") & dg.AssetSelection.from_string("kind:dbt")
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
ml_schedules = [
    dg.ScheduleDefinition(job=ml_training_job, cron_schedule="0 3 * * 1", name="ml_training_weekly",
                          execution_timezone="UTC", tags=WAREHOUSE_TAGS),
    dg.ScheduleDefinition(job=ml_scoring_job, cron_schedule="0 4 * * *", name="ml_scoring_daily",
                          execution_timezone="UTC", tags=WAREHOUSE_TAGS),
]  # fmt: skip

defs = dg.Definitions(assets=ml_assets, jobs=[ml_training_job, ml_scoring_job], schedules=ml_schedules)
