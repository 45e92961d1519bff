"""Alerts: every failed c360 run posted to C360_ALERT_WEBHOOK_URL."""

import dagster as dg

from orchestration.defs.alerts.sensors import run_failure_alert

defs = dg.Definitions(sensors=[run_failure_alert])
