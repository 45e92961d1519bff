"""Business webhooks: after the audiences, the churn scores or a verification change, the events they make
are found (webhooks/detect.py) and delivered to every subscription (webhooks/deliver.py)."""

import dagster as dg

from c360_core.settings import settings
from c360_core.warehouse import connect
from orchestration.defs.shared import AUTOMATION
from webhooks.deliver import deliver
from webhooks.detect import detect

KEY = dg.AssetKey(["audit", "webhook_events"])
# by key, not by the other domains' objects: audiences (dbt), churn scores (ml), the quality history
UPSTREAM = [dg.AssetKey(["marts", "segment_membership_history"]), dg.AssetKey(["ml", "churn_predictions"])]


@dg.asset(
    key=KEY,
    deps=UPSTREAM,
    group_name="webhooks",
    kinds={"python", "table"},
    automation_condition=AUTOMATION,
    description="Business events (audience.entered/exited, churn_risk.became_high, quality.dropped) found since "
    "the last run, appended to the outbox and POSTed, signed, to each subscription (docs/serving.md).",
)
def webhook_events(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    with connect(settings()) as wh:
        found = detect(wh)
        done = deliver(wh)
    for subscription, waiting in sorted(done.held_back.items()):
        context.log.warning(f"subscription {subscription}: {waiting} event(s) not delivered; the next run retries")
    return dg.MaterializeResult(
        metadata={"found": dg.MetadataValue.json(found), "delivered": done.sent, "attempts": done.attempts,
                  "held_back": dg.MetadataValue.json(done.held_back)}
    )  # fmt: skip
