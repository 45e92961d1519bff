"""Business events, found by comparing the warehouse with what was seen last time, into the outbox.

- `audience.entered` / `audience.exited`: the rows of marts.segment_membership_history after the last
  event sequence seen;
- `churn_risk.became_high`: customers whose churn band is `high` now and was not at the last look;
- `quality.dropped`: a verification of a dataset that scored lower than the one before it;
- `anomaly.detected`: an order the anomaly champion flags that no earlier look had seen flagged.

The first look at each only records where things stand: events are changes after c360 began watching,
not the whole history at once.
"""

from __future__ import annotations

from c360_core.warehouse import Warehouse, create_table, table_exists
from webhooks import store

CHURN_STATE = "audit.webhook_churn_high"  # the customers whose band was high at the last look
ANOMALY_STATE = "audit.webhook_anomalies_seen"  # the flagged orders already announced (or there at the first look)


def detect(wh: Warehouse) -> dict[str, int]:
    """Append the events found since the last look to the outbox, in one transaction; counts by type."""
    store.ensure(wh)
    create_table(wh, CHURN_STATE, {"customer_id": "varchar"})
    create_table(wh, ANOMALY_STATE, {"order_id": "varchar"})
    with wh.transaction():
        found = [*_audiences(wh), *_churn(wh), *_quality(wh), *_anomalies(wh)]
        store.append(wh, found)
    counts: dict[str, int] = {}
    for kind, _ in found:
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _audiences(wh: Warehouse) -> list[tuple[str, dict]]:
    if not table_exists(wh, "marts.segment_membership_history"):
        return []
    seen = store.watermark(wh, "audiences")
    last = int(wh.query("select coalesce(max(event_sequence), 0) from marts.segment_membership_history")[1][0][0])
    store.set_watermark(wh, "audiences", str(last))
    if seen is None:
        return []
    _, rows = wh.query(
        "select event, customer_id, segment_name, reason, event_at, event_sequence "
        "from marts.segment_membership_history where event_sequence > ? order by event_sequence, segment_name, "
        "customer_id",
        [int(seen)],
    )
    return [
        (f"audience.{event}", {"customer_id": customer, "segment_name": segment, "reason": reason,
                               "event_at": at, "event_sequence": sequence})
        for event, customer, segment, reason, at, sequence in rows
    ]  # fmt: skip


def _churn(wh: Warehouse) -> list[tuple[str, dict]]:
    if not table_exists(wh, "ml.churn_predictions"):
        return []
    seen = store.watermark(wh, "churn")
    _, rows = wh.query(
        "select customer_id, churn_probability, reason_1, reason_2, reason_3, model_version, cutoff_date "
        "from ml.churn_predictions where churn_risk_band = 'high' order by customer_id"
    )
    before = {c for (c,) in wh.query(f"select customer_id from {CHURN_STATE}")[1]}
    wh.execute(f"delete from {CHURN_STATE}")
    if rows:
        wh.execute(f"insert into {CHURN_STATE} select customer_id from ml.churn_predictions "
                   "where churn_risk_band = 'high'")  # fmt: skip
    store.set_watermark(wh, "churn", "seen")
    if seen is None:
        return []
    return [
        ("churn_risk.became_high", {"customer_id": c, "churn_probability": p, "reasons": [r for r in (r1, r2, r3) if r],
                                    "model_version": v, "cutoff_date": d})
        for c, p, r1, r2, r3, v, d in rows
        if c not in before
    ]  # fmt: skip


def _anomalies(wh: Warehouse) -> list[tuple[str, dict]]:
    if not table_exists(wh, "ml.transaction_anomalies"):
        return []
    seen = store.watermark(wh, "anomalies")
    _, rows = wh.query(
        "select order_id, customer_id, occurred_at, amount, anomaly_score, reasons, model_version, cutoff_date "
        f"from ml.transaction_anomalies where record_type = 'order' and is_anomaly and order_id not in "
        f"(select order_id from {ANOMALY_STATE}) order by anomaly_score desc, order_id"
    )
    if rows:
        wh.execute(f"insert into {ANOMALY_STATE} select order_id from ml.transaction_anomalies "
                   f"where record_type = 'order' and is_anomaly and order_id not in "
                   f"(select order_id from {ANOMALY_STATE})")  # fmt: skip
    store.set_watermark(wh, "anomalies", "seen")
    if seen is None:
        return []
    return [
        ("anomaly.detected", {"order_id": o, "customer_id": c, "ordered_at": at, "amount": a, "anomaly_score": s,
                              "reasons": (r or "").split("; "), "model_version": v, "cutoff_date": d})
        for o, c, at, a, s, r, v, d in rows
    ]  # fmt: skip


def _quality(wh: Warehouse) -> list[tuple[str, dict]]:
    if not table_exists(wh, "quality.dataset_scores"):
        return []
    seen = store.watermark(wh, "quality")
    last = wh.query("select max(verified_at) from quality.dataset_scores")[1][0][0]
    if last is not None:
        store.set_watermark(wh, "quality", last.isoformat())
    if seen is None:
        return []
    _, rows = wh.query(
        "select dataset, score, previous_score, min_score, blocking_checks_failed, verified_at from ("
        " select *, lag(score) over (partition by dataset order by verified_at) as previous_score"
        " from quality.dataset_scores) as scored "
        "where verified_at > cast(? as timestamp) and score < previous_score order by verified_at, dataset",
        [seen],
    )
    return [
        ("quality.dropped", {"dataset": d, "score": s, "previous_score": p, "min_score": m,
                             "blocking_checks_failed": [c for c in (b or "").split(",") if c], "verified_at": at})
        for d, s, p, m, b, at in rows
    ]  # fmt: skip
