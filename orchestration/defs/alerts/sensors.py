"""Run-failure alerts: every failed c360 run is posted as JSON to C360_ALERT_WEBHOOK_URL."""

import dagster as dg

from c360_core.settings import settings
from orchestration.lib.alerts import post_alert


@dg.run_failure_sensor(
    name="c360_run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts each failed run to the webhook in C360_ALERT_WEBHOOK_URL (logs it when unset).",
)
def run_failure_alert(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    payload = {
        "event": "run_failure",
        "run_id": run.run_id,
        "job": run.job_name,
        "tags": dict(run.tags),
        "error": context.failure_event.message,
        "failed_steps": [e.step_key for e in context.get_step_failure_events()],
    }
    url = settings().alert_webhook_url
    if not url:
        context.log.warning(f"run {run.run_id} of {run.job_name} failed (no C360_ALERT_WEBHOOK_URL set)")
        return
    status = post_alert(url, payload)
    context.log.info(f"alert for run {run.run_id} posted to the webhook: HTTP {status}")
