"""Webhooks: the business events of each run, delivered to their subscribers."""

import dagster as dg

from orchestration.defs.webhooks.assets import webhook_events

defs = dg.Definitions(assets=[webhook_events])
