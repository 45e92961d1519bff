"""Alerts: a JSON document POSTed to the webhook of C360_ALERT_WEBHOOK_URL (failed runs, quality drops)."""

import json
import urllib.request


def post_alert(url: str, payload: dict, timeout: float = 10.0) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status
