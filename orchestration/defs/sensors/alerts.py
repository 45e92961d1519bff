"""Run-failure alerts: every failed c360 run is posted as JSON to C360_ALERT_WEBHOOK_URL."""

import json
import urllib.request

import dagster as dg

from c360_core.settings import settings


def post_alert(url: str, payload: dict, timeout: float = 10.0) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status


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
