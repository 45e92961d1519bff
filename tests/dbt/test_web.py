"""The web marts and every customer_360 column against figures computed from the landing files
(tests/support/expected.py), on each target: the sessions by the documented rule, the four Lens activity
streams row by row, and each customer's profile, order, RFM and web figures."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pandas as pd
import pytest

from c360_core.settings import settings
from c360_core.warehouse import connect
from tests.support import expected
from tests.support.warehouse import AS_OF, env, landing_of

SESSION_COLUMNS = ["customer_id", "anonymous_id", "traffic_channel", "traffic_source", "events_count",
                   "page_views_count", "product_views_count", "favorites_count", "cart_adds_count",
                   "cart_removes_count", "orders_placed_count", "engagement_minutes", "is_bounce",
                   "is_cart_abandoned", "session_started_at", "session_ended_at"]  # fmt: skip
STREAM_COLUMNS = ["session_id", "entity_id", "product_sku", "transaction_id", "product_name", "category_name",
                  "subcategory_name", "brand_name", "parent_company", "event_action", "traffic_channel",
                  "traffic_source", "product_price", "quantity", "order_value", "occurrence", "visit_start_ts",
                  "activity_ts"]  # fmt: skip


def same(got, want) -> bool:
    """Equal values across the two engines' types: decimals exactly, doubles to 1e-9, booleans as 0/1."""
    if want is None or got is None:
        return got is None and want is None
    if isinstance(want, float) or isinstance(got, float):
        return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(want, bool):
        return bool(got) == want
    if isinstance(want, dt.datetime):
        return pd.Timestamp(got).tz_localize(None) == pd.Timestamp(want) if pd.Timestamp(got).tz else got == want
    return got == want


def compare(rows: dict[str, dict], want: dict[str, dict], columns: list[str], what: str) -> None:
    assert set(rows) == set(want), f"{what}: {len(set(rows) ^ set(want))} keys differ"
    wrong = [(key, c, rows[key][c], want[key][c]) for key in sorted(want) for c in columns
             if not same(rows[key][c], want[key][c])]  # fmt: skip
    assert wrong == [], f"{what}: {len(wrong)} values differ, first {wrong[:5]}"


def table(values: dict, sql: str, key: str) -> dict[str, dict]:
    with env(values), connect(settings()) as wh:
        columns, rows = wh.query(sql)
    return {r[columns.index(key)]: dict(zip(columns, r, strict=True)) for r in rows}


def test_web_sessions_equal_the_sessions_of_the_files(built):
    want = expected.sessions(landing_of(built))
    assert len(want) > 500 and any(s["is_cart_abandoned"] for s in want.values())
    assert any(s["customer_id"] is None for s in want.values()), "anonymous sessions too"
    compare(table(built, "select * from marts.web_sessions", "session_id"), want, SESSION_COLUMNS, "web_sessions")


@pytest.mark.parametrize("mart", sorted(expected.ACTIONS))
def test_each_activity_stream_equals_the_events_of_the_files(built, mart):
    want = expected.streams(landing_of(built))[mart]
    assert len(want) > 20, mart
    assert any(r["product_name"] for r in want.values()), "the products are joined"
    got = table(built, f"select * from marts.{mart}", "activity_uuid")
    compare(got, want, STREAM_COLUMNS, mart)
    lens = table(built, f"select * from semantic.sl_{mart}", "activity_uuid")  # the Lens columns the view adds
    last: dict[tuple, dt.datetime] = {}
    for uuid, row in sorted(want.items(), key=lambda kv: (kv[1]["activity_ts"], kv[0])):
        key = (row["entity_id"], row["product_sku"])
        assert lens[uuid]["duration_in_days"] == (AS_OF - row["activity_ts"].date()).days, uuid
        assert same(lens[uuid]["activity_repeated_at"], last.get(key)), uuid
        last[key] = row["activity_ts"]


def profiles(built: dict) -> dict[str, dict]:
    return table(built, "select * from marts.customer_360", "customer_id")


CRM = ["first_name", "last_name", "gender", "phone_number", "email_address", "education_level", "marital_status",
       "occupation", "hobbies", "mailing_street", "city", "state", "country", "zipcode"]  # fmt: skip


def test_every_profile_column_equals_the_files(built):
    """The CRM record (its latest version), age, tenure, the order and RFM figures, the web figures and the
    preferences: every column of customer_360 but the model predictions (tests/ml checks those)."""
    landing = landing_of(built)
    crm = expected.latest(landing, "customers", "customer_id")
    orders, scores = expected.customer_orders(landing, AS_OF), expected.rfm(landing, AS_OF)
    web, liked = expected.customer_web(landing, AS_OF), expected.preferences(landing)
    got = profiles(built)
    assert set(got) == set(crm)
    predictions = {
        "churn_probability",
        "churn_risk_band",
        "predicted_clv",
        "cluster_id",
        "cluster_name",
        "top_recommendations",
        "anomaly_flag_90d",
        "next_best_channel",
        "next_best_channel_probability",
    }  # tests/ml/test_recommendations.py, tests/ml/test_anomalies.py
    checked = set()
    want: dict[str, dict] = {}
    for customer, c in crm.items():
        born = dt.date.fromisoformat(c["date_of_birth"]) if c["date_of_birth"] else None
        registered = expected._ts(c["registration_date"])
        o, w = orders.get(customer), web.get(customer, {})
        r, f, m = scores.get(customer, (None, None, None))
        row = {k: c[k] if c[k] != "" else None for k in CRM}
        row |= {
            "as_of_date": AS_OF,
            "number_of_children": int(c["number_of_children"]) if c["number_of_children"] else None,
            "annual_income": float(c["annual_income"]) if c["annual_income"] else None,
            "degree_of_loyalty": int(c["degree_of_loyalty"]) if c["degree_of_loyalty"] else None,
            "date_of_birth": born, "age": expected.age(born, AS_OF) if born else None,
            "registered_at": registered, "tenure_days": (AS_OF - registered.date()).days,
            "updated_at": expected._ts(c["updated_at"]),
            "orders_count": o["orders_count"] if o else 0,
            "total_order_value": o["total_order_value"] if o else Decimal(0),
            "avg_order_value": float(o["total_order_value"]) / o["orders_count"] if o else None,
            "first_order_at": o["first_order_at"] if o else None, "last_order_at": o["last_order_at"] if o else None,
            "recency_days": o["recency_days"] if o else None,
            "rfm_recency_score": r, "rfm_frequency_score": f, "rfm_monetary_score": m,
            "rfm_segment": expected.segment(r, f, m),
            "sessions_count": w.get("sessions_count", 0), "product_views_count": w.get("product_views_count", 0),
            "favorites_count": w.get("favorites_count", 0), "cart_adds_count": w.get("cart_adds_count", 0),
            "cart_abandonment_rate": w.get("cart_abandonment_rate"),
            "engagement_minutes": w.get("engagement_minutes", 0.0),
            "days_since_last_activity": w.get("days_since_last_activity"),
            "preferred_channel": w.get("preferred_channel"),
            "preferred_category": liked.get(customer, (None, None))[0],
            "preferred_brand": liked.get(customer, (None, None))[1],
        }  # fmt: skip
        want[customer] = row
        checked = set(row)
    columns = set(next(iter(got.values())))
    assert columns - checked - {"customer_id"} == predictions, "a customer_360 column without an independent check"
    compare(got, want, sorted(checked), "customer_360")
    assert {w["rfm_segment"] for w in want.values()} >= {
        "Champions",
        "Loyal Customers",
        "Potential Loyalists",
        "Cannot Lose Them",
        "At Risk",
        "Prospect",
    }
