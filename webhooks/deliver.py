"""Deliver the outbox: each subscription gets its events in order, one signed POST each.

The body is JSON: `{"id", "type", "created_at", "data"}`. Headers: `X-C360-Event` (the type),
`X-C360-Delivery` (the event id, the same on every retry, for the receiver to drop duplicates),
`X-C360-Timestamp` (Unix seconds) and `X-C360-Signature: sha256=<hex>`, the HMAC-SHA256 of
`<timestamp>.<body>` with the subscription's secret. A receiver checks it with `verify`.

An answer other than 2xx, or none, is retried with exponential backoff; every attempt is a row of
audit.webhook_deliveries. An event that still fails holds back that subscription's later events until the
next delivery run, so a receiver never gets them out of order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from c360_core.warehouse import Warehouse
from webhooks import store

ATTEMPTS = 4
BACKOFF_SECONDS = 0.5  # then 1 s, 2 s
TIMEOUT_SECONDS = 10.0


@dataclass
class Delivered:
    sent: int = 0
    attempts: int = 0
    held_back: dict[str, int] = field(default_factory=dict)  # subscription -> events not delivered this time


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver runs: the signature is the sender's, over this timestamp and body."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def body_of(event: store.Event) -> bytes:
    document = {"id": event.event_id, "type": event.event_type, "created_at": event.created_at.isoformat(),
                "data": event.payload}  # fmt: skip
    return json.dumps(document, default=str, sort_keys=True).encode()


def _post(url: str, headers: dict[str, str], body: bytes, timeout: float) -> tuple[int | None, str | None]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, None
    except urllib.error.HTTPError as err:
        return err.code, f"HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:
        return None, str(getattr(err, "reason", err))


def deliver(wh: Warehouse, attempts: int = ATTEMPTS, backoff: float = BACKOFF_SECONDS,
            timeout: float = TIMEOUT_SECONDS) -> Delivered:  # fmt: skip
    """Send every subscription its pending events; returns what was sent and what waits for the next run."""
    store.ensure(wh)
    done = Delivered()
    for sub in store.subscriptions(wh):
        events = store.pending(wh, sub)
        for position, event in enumerate(events):
            body = body_of(event)
            ok = False
            for attempt in range(1, attempts + 1):
                stamp = str(int(time.time()))
                headers = {"Content-Type": "application/json", "User-Agent": "c360-webhooks",
                           "X-C360-Event": event.event_type, "X-C360-Delivery": event.event_id,
                           "X-C360-Timestamp": stamp, "X-C360-Signature": sign(sub.secret, stamp, body)}  # fmt: skip
                status, error = _post(sub.url, headers, body, timeout)
                ok = status is not None and 200 <= status < 300
                failure = None if ok else (error or f"HTTP {status}")
                store.log_attempt(wh, sub, event, attempt, status=status, error=failure)
                done.attempts += 1
                if ok:
                    break
                if attempt < attempts:
                    time.sleep(backoff * 2 ** (attempt - 1))
            if not ok:
                done.held_back[sub.subscription_id] = len(events) - position
                break
            store.delivered(wh, sub, event.event_no)
            done.sent += 1
    return done
