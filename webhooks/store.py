"""The webhook tables, all in the `audit` schema:

- `webhook_subscriptions`: who wants which events, where, and the secret their payloads are signed with;
  `delivered_through`, the last outbox event it has received (deliveries keep the outbox's order);
- `webhook_events`: the outbox, numbered in the order events were found;
- `webhook_deliveries`: every attempt to deliver an event, its HTTP status or error;
- `webhook_watermarks`: how far each detector has looked (a membership event sequence, a verification time).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from dataclasses import dataclass

from c360_core.warehouse import Warehouse, arrow_table, create_table

EVENTS = ("audience.entered", "audience.exited", "churn_risk.became_high", "quality.dropped", "anomaly.detected")
SUBSCRIPTIONS = "audit.webhook_subscriptions"
OUTBOX = "audit.webhook_events"
DELIVERIES = "audit.webhook_deliveries"
WATERMARKS = "audit.webhook_watermarks"
TABLES = {
    SUBSCRIPTIONS: {"subscription_id": "varchar", "url": "varchar", "events": "varchar", "secret": "varchar",
                    "created_at": "timestamp", "delivered_through": "bigint", "active": "integer"},
    OUTBOX: {"event_no": "bigint", "event_id": "varchar", "event_type": "varchar", "payload": "varchar",
             "created_at": "timestamp"},
    DELIVERIES: {"subscription_id": "varchar", "event_no": "bigint", "event_id": "varchar", "attempt": "integer",
                 "status_code": "integer", "error": "varchar", "attempted_at": "timestamp"},
    WATERMARKS: {"detector": "varchar", "position": "varchar"},
}  # fmt: skip


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    delivered_through: int


@dataclass(frozen=True)
class Event:
    event_no: int
    event_id: str
    event_type: str
    payload: dict
    created_at: dt.datetime


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def ensure(wh: Warehouse) -> None:
    for table, columns in TABLES.items():
        create_table(wh, table, columns)


def subscribe(wh: Warehouse, url: str, events: list[str], secret: str | None = None) -> Subscription:
    """A new subscription, receiving the events found from now on (not those already in the outbox)."""
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise ValueError(f"unknown event type(s) {unknown}: choose from {', '.join(EVENTS)}")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"a webhook URL is http:// or https://, not {url!r}")
    ensure(wh)
    made = Subscription(uuid.uuid4().hex[:12], url, tuple(sorted(set(events))), secret or secrets.token_hex(32),
                        last_event(wh))  # fmt: skip
    row = (made.subscription_id, url, ",".join(made.events), made.secret, now(), made.delivered_through, 1)
    wh.insert_arrow(SUBSCRIPTIONS, arrow_table(TABLES[SUBSCRIPTIONS], [row]))
    return made


def unsubscribe(wh: Warehouse, subscription_id: str) -> bool:
    ensure(wh)
    _, rows = wh.query(f"select count(*) from {SUBSCRIPTIONS} where subscription_id = ? and active = 1",
                       [subscription_id])  # fmt: skip
    wh.execute(f"update {SUBSCRIPTIONS} set active = 0 where subscription_id = ?", [subscription_id])
    return rows[0][0] > 0


def subscriptions(wh: Warehouse) -> list[Subscription]:
    ensure(wh)
    _, rows = wh.query(f"select subscription_id, url, events, secret, delivered_through from {SUBSCRIPTIONS} "
                       "where active = 1 order by created_at, subscription_id")  # fmt: skip
    return [Subscription(i, u, tuple(e.split(",")), s, int(d)) for i, u, e, s, d in rows]


def last_event(wh: Warehouse) -> int:
    return int(wh.query(f"select coalesce(max(event_no), 0) from {OUTBOX}")[1][0][0])


def append(wh: Warehouse, found: list[tuple[str, dict]]) -> int:
    """Add events (type, payload) to the outbox, numbered after the last one; returns how many."""
    if not found:
        return 0
    start, created = last_event(wh) + 1, now()
    rows = [(start + i, str(uuid.uuid4()), kind, json.dumps(payload, default=str, sort_keys=True), created)
            for i, (kind, payload) in enumerate(found)]  # fmt: skip
    wh.insert_arrow(OUTBOX, arrow_table(TABLES[OUTBOX], rows))
    return len(rows)


def pending(wh: Warehouse, sub: Subscription) -> list[Event]:
    """The outbox events after the subscription's last delivered one, of the types it wants, in order."""
    marks = ", ".join("?" for _ in sub.events)
    _, rows = wh.query(f"select event_no, event_id, event_type, payload, created_at from {OUTBOX} "
                       f"where event_no > ? and event_type in ({marks}) order by event_no",
                       [sub.delivered_through, *sub.events])  # fmt: skip
    return [Event(int(n), i, t, json.loads(p), c) for n, i, t, p, c in rows]


def delivered(wh: Warehouse, sub: Subscription, event_no: int) -> None:
    wh.execute(f"update {SUBSCRIPTIONS} set delivered_through = ? where subscription_id = ?",
               [event_no, sub.subscription_id])  # fmt: skip


def log_attempt(wh: Warehouse, sub: Subscription, event: Event, attempt: int, *, status: int | None,
                error: str | None) -> None:  # fmt: skip
    row = (sub.subscription_id, event.event_no, event.event_id, attempt, status, error, now())
    wh.insert_arrow(DELIVERIES, arrow_table(TABLES[DELIVERIES], [row]))


def watermark(wh: Warehouse, detector: str) -> str | None:
    _, rows = wh.query(f"select position from {WATERMARKS} where detector = ?", [detector])
    return rows[0][0] if rows else None


def set_watermark(wh: Warehouse, detector: str, position: str) -> None:
    wh.execute(f"delete from {WATERMARKS} where detector = ?", [detector])
    wh.execute(f"insert into {WATERMARKS} values (?, ?)", [detector, position])
