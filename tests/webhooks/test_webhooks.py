"""Business webhooks end to end: an audience rule changes, a real run finds who entered, and a local HTTP
receiver gets each one, signed; an answer of HTTP 500 is retried, and every attempt is in the delivery log."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import yaml

from c360_core.settings import settings
from c360_core.warehouse import connect
from tests.support import expected
from tests.support.warehouse import AS_OF, env, landing_of, materialize_all, receiver
from webhooks import store
from webhooks.deliver import verify

AUDIENCES = Path(__file__).resolve().parents[2] / "dbt_project" / "audiences.yml"


def recent_orders(landing: Path) -> Counter:
    """Counted orders in the 90 days before the as-of date, per CRM customer (the Frequent Buyers signal)."""
    crm = expected.latest(landing, "customers", "customer_id")
    return Counter(
        o["customer_id"] for o in expected.latest_orders(landing).values()
        if o["order_status"] not in ("Canceled", "Returned") and o["customer_id"] in crm
        and 0 <= (AS_OF - expected._ts(o["order_date"]).date()).days <= 90
    )  # fmt: skip


def test_a_rule_change_sends_each_new_member_signed_and_a_500_is_retried(forked, tmp_path):
    audiences = tmp_path / "audiences.yml"
    shutil.copy(AUDIENCES, audiences)
    values = {**forked, "C360_AUDIENCES": str(audiences)}
    counts = recent_orders(landing_of(forked))
    newcomers = {c for c, n in counts.items() if n == 2}  # in at ">= 2", out at ">= 3"
    assert newcomers, "the test data has no customer with exactly two recent orders"

    with receiver(failures=1) as hook:
        with env(values), connect(settings()) as wh:
            sub = store.subscribe(wh, hook.url, ["audience.entered", "audience.exited"])
        spec = yaml.safe_load(audiences.read_text())
        next(a for a in spec["audiences"] if a["name"] == "Frequent Buyers")["rule"] = "orders_90d >= 2"
        audiences.write_text(yaml.safe_dump(spec, sort_keys=False))
        with env(values):
            assert materialize_all("key:marts/audience_assignments+")
    got = hook.calls

    assert [g["status"] for g in got] == [500] + [204] * len(newcomers)
    for g in got:
        headers = g["headers"]
        assert verify(sub.secret, headers["X-C360-Timestamp"], g["body"], headers["X-C360-Signature"])
        assert headers["X-C360-Event"] == "audience.entered"
    documents = [json.loads(g["body"]) for g in got[1:]]
    assert {(d["data"]["segment_name"], d["data"]["customer_id"]) for d in documents} == {
        ("Frequent Buyers", c) for c in newcomers
    }
    assert got[0]["headers"]["X-C360-Delivery"] == got[1]["headers"]["X-C360-Delivery"]  # the same event, again
    assert not verify("another secret", got[1]["headers"]["X-C360-Timestamp"], got[1]["body"],
                      got[1]["headers"]["X-C360-Signature"])  # fmt: skip

    with env(values), connect(settings()) as wh:
        _, log = wh.query(f"select event_id, attempt, status_code, error from {store.DELIVERIES} "
                          "where subscription_id = ? order by event_no, attempt", [sub.subscription_id])  # fmt: skip
        [(through,)] = wh.query(f"select delivered_through from {store.SUBSCRIPTIONS} where subscription_id = ?",
                                [sub.subscription_id])[1]  # fmt: skip
        last = store.last_event(wh)
    first = got[0]["headers"]["X-C360-Delivery"]
    assert [row[1:] for row in log if row[0] == first] == [(1, 500, "HTTP 500"), (2, 204, None)]
    assert len(log) == len(newcomers) + 1 and through == last
