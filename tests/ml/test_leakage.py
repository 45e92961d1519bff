"""No feature reads data after its cutoff: append records dated after the holdout cutoff to every
source a feature reads (a later version of an old order, a new order with its line and payment,
a web event in a session that began before the cutoff, a new session, a CRM change), rebuild the
models, and the train and holdout features must come out identical. The same records change
today's (score) features, which proves they were read at all."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pandas as pd
import pytest

from c360_core.settings import settings
from c360_core.warehouse import Warehouse, connect
from tests.support.ml_warehouse import ML_AS_OF, ml_env
from tests.support.warehouse import env, fork, materialize_all

HOLDOUT_END = dt.datetime.combine(ML_AS_OF - dt.timedelta(days=90) + dt.timedelta(days=1), dt.time())
RECENT = dt.datetime.combine(ML_AS_OF - dt.timedelta(days=10), dt.time(12))  # inside today's lookback too
LOADED = {"_load_id": "leakage-test", "_source_file": "leakage_test", "_line": 1}


@pytest.fixture
def ml_forked(ml_built, tmp_path) -> Iterator[dict[str, str]]:
    """A private copy of the ML warehouse."""
    with fork(ml_built, ml_env(ml_built["C360_TARGET"], tmp_path, f"c360_test_{uuid.uuid4().hex[:8]}")) as values:
        yield values


def features(values: dict, roles: tuple[str, ...]) -> pd.DataFrame:
    in_roles = ", ".join(f"'{r}'" for r in roles)
    with env(values), connect(settings()) as wh:
        found = wh.fetch_frame(f"select * from ml.customer_features where cutoff_role in ({in_roles})")
    return found.sort_values(["cutoff_role", "customer_id"]).reset_index(drop=True)


def clone(wh: Warehouse, table: str, where: str, params: list, changes: dict, *, order: str = "1") -> dict:
    """Insert a copy of one existing raw row with `changes` (and fresh load metadata); returns it."""
    columns, rows = wh.query(f"select * from {table} where {where} order by {order} limit 1", params)
    row = {**dict(zip(columns, rows[0], strict=True)), **LOADED, "_loaded_at": dt.datetime.now(), **changes}
    wh.execute(f"insert into {table} ({', '.join(row)}) values ({', '.join('?' * len(row))})", list(row.values()))
    return row


def append_after_the_holdout_cutoff(wh: Warehouse) -> str:
    """The records of one buyer (active on the web too) dated after the holdout cutoff; returns the buyer."""
    _, [(customer,)] = wh.query(
        "select customer_id from ml.customer_features where cutoff_role = 'holdout' and is_buyer "
        "and sessions_count > 1 order by customer_id limit 1"
    )
    after = HOLDOUT_END + dt.timedelta(hours=5)
    old = clone(wh, "raw.orders", "customer_id = ? and order_date < ? and updated_at < ?",
                [customer, HOLDOUT_END, HOLDOUT_END], {"order_status": "Canceled", "updated_at": after})  # fmt: skip
    after = RECENT
    new_order, new_payment = f"LEAK-{uuid.uuid4().hex[:8]}", f"LEAKTX-{uuid.uuid4().hex[:8]}"
    clone(wh, "raw.orders", "order_id = ?", [old["order_id"]],
          {"order_id": new_order, "transaction_id": new_payment, "order_status": "Processing", "order_date": after,
           "updated_at": after, "total_amount": 999.0})  # fmt: skip
    clone(wh, "raw.order_line_items", "order_id = ?", [old["order_id"]],
          {"order_li_id": f"{new_order}-1", "order_id": new_order, "qty": 3})  # fmt: skip
    clone(wh, "raw.transactions", "order_id = ?", [old["order_id"]],
          {"transaction_id": new_payment, "order_id": new_order, "amount": 999.0, "transaction_ts": after})  # fmt: skip
    # an event late in a session that began before the cutoff, an anonymous one, and a new session
    session = clone(wh, "raw.web_events", "entity_id = ? and activity_ts < ?", [customer, HOLDOUT_END],
                    {"activity_uuid": str(uuid.uuid4()), "activity_ts": HOLDOUT_END + dt.timedelta(minutes=3),
                     "event_action": "add_to_cart"})  # fmt: skip
    clone(wh, "raw.web_events", "activity_uuid = ?", [session["activity_uuid"]],
          {"activity_uuid": str(uuid.uuid4()), "entity_id": None, "activity_ts": after})  # fmt: skip
    clone(wh, "raw.web_events", "activity_uuid = ?", [session["activity_uuid"]],
          {"activity_uuid": str(uuid.uuid4()), "session_id": f"leak-{uuid.uuid4().hex}", "visit_start_ts": after,
           "activity_ts": after, "event_action": "product_view"})  # fmt: skip
    # a life event recorded after the cutoff
    life = {
        "updated_at": dt.datetime.combine(ML_AS_OF, dt.time(12)),
        "number_of_children": 7,
        "marital_status": "Married",
        "mailing_street": "1 Leak St",
    }
    clone(wh, "raw.customers", "customer_id = ?", [customer], life, order="updated_at desc")
    return customer


def test_features_ignore_everything_after_their_cutoff(ml_forked):
    before = features(ml_forked, ("train", "holdout"))
    today = features(ml_forked, ("score",))
    with env(ml_forked), connect(settings()) as wh:
        customer = append_after_the_holdout_cutoff(wh)
    with env(ml_forked):
        assert materialize_all("kind:dbt"), "rebuilding the models after the appended records failed"
    pd.testing.assert_frame_equal(features(ml_forked, ("train", "holdout")), before)
    changed = features(ml_forked, ("score",))
    mine = (changed["customer_id"] == customer) & (today["customer_id"] == customer)
    watched = ["monetary_value", "sessions_count", "number_of_children", "moved_recently"]
    differs = [c for c in watched if changed.loc[mine, c].iloc[0] != today.loc[mine, c].iloc[0]]
    assert differs == watched
