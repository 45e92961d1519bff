"""The c360 Dagster code location (loaded through workspace.yaml): each domain of orchestration/defs owns its
assets, checks, jobs, schedules and sensors in its `definitions.py`, and they are merged here.

- ingest: an asset per source, a job and a schedule per cadence, the orders and late-file sensors;
- dbt: the models (dbt tests as asset checks), the job of all of them, the automation sensor;
- quality: the Soda contracts as asset checks, the nightly full verification;
- ml: training, the champion gates and scoring, weekly and daily;
- audiences, semantic: the Python assets between the dbt models;
- governance: grants after the marts, daily retention;
- alerts: failed runs posted to the webhook;
- webhooks: business events (audiences, churn risk, quality) delivered to their subscribers.

Every run carries c360/warehouse=<target>; dagster.yaml lets one such run write at a time.
"""

import dagster as dg

from orchestration.defs.alerts import definitions as alerts
from orchestration.defs.audiences import definitions as audiences
from orchestration.defs.dbt import definitions as dbt
from orchestration.defs.governance import definitions as governance
from orchestration.defs.ingest import definitions as ingest
from orchestration.defs.ml import definitions as ml
from orchestration.defs.quality import definitions as quality
from orchestration.defs.semantic import definitions as semantic
from orchestration.defs.webhooks import definitions as webhooks

defs = dg.Definitions.merge(
    ingest.defs, dbt.defs, quality.defs, ml.defs, audiences.defs, semantic.defs, governance.defs, alerts.defs,
    webhooks.defs,
    # DuckDB allows one writing process per file: steps run one after another in one process,
    # so the loaders and dbt never hold the warehouse at the same time.
    dg.Definitions(executor=dg.in_process_executor),
)  # fmt: skip
