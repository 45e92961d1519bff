"""The semantic layer on each target: every metric MetricFlow answers equals the same figure computed
here with pandas from the marts, the Lens query through the real `mf` CLI equals an independent
count, and each semantic.* table equals its saved query."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from c360_core.settings import settings
from c360_core.warehouse import connect
from orchestration.defs.dbt.project import DBT_DIR
from orchestration.lib.semantic import SemanticLayer
from tests.support.warehouse import AS_OF, env

METRICS_YAML = DBT_DIR / "models" / "semantic" / "_semantic__metrics.yml"


def marts(built: dict, *tables: str) -> dict[str, pd.DataFrame]:
    with env(built), connect(settings()) as wh:
        return {t: wh.fetch_frame(f"select * from marts.{t}") for t in tables}


def layer(built: dict) -> SemanticLayer:
    return SemanticLayer(Path(built["C360_DATA_DIR"]) / "dbt-target" / built["C360_TARGET"] / "semantic_manifest.json",
                         built["C360_TARGET"])  # fmt: skip


def answer(built: dict, metrics: list[str], group_by: list[str] = (), where: list[str] = ()) -> pd.DataFrame:
    with env(built), connect(settings()) as wh:
        return wh.fetch_frame(layer(built).metric_sql(metrics, group_by, where))


def days_since(stamps: pd.Series) -> int:
    return (AS_OF - pd.to_datetime(stamps).max().date()).days


def expected_totals(m: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Every metric without a group-by, from the marts (the Lens's own definitions)."""
    c360, segments, orders, sessions = m["customer_360"], m["customer_segments"], m["orders"], m["web_sessions"]
    products = m["products"]
    views, favorites, carts, placed = m["product_views"], m["favorites"], m["cart_adds"], m["orders_placed"]
    counted = orders[orders["is_counted"].astype(bool)]
    with_cart = sessions["cart_adds_count"] > 0
    placed_age = (pd.Timestamp(AS_OF) - pd.to_datetime(placed["activity_ts"]).dt.normalize()).dt.days
    figures = {
        "total_customers": c360["customer_id"].nunique(),
        "segment_customers": segments["customer_id"].nunique(),
        "annual_income": c360["annual_income"].mean(),
        "catalog_products": products["sku_id"].nunique(),
        "product_price": products["sale_price"].mean(),
        "product_view_sessions": views["session_id"].nunique(),
        "products_viewed": views["product_sku"].nunique(),
        "product_view_occurrences": views["occurrence"].sum(),
        "days_since_last_view": days_since(views["activity_ts"]),
        "session_engagement_minutes": sessions["engagement_minutes"].sum(),
        "sessions": sessions["session_id"].nunique(),
        "favorites_count": favorites["occurrence"].sum(),
        "favorite_sessions": favorites["session_id"].nunique(),
        "products_favorited": favorites["product_sku"].nunique(),
        "cart_adds": carts["occurrence"].sum(),
        "cart_quantity": carts["quantity"].sum(),
        "cart_sessions": carts["session_id"].nunique(),
        "products_added_to_cart": carts["product_sku"].nunique(),
        "order_count": placed["transaction_id"].nunique(),
        "order_count_last_30_days": placed.loc[placed_age.between(0, 30), "transaction_id"].nunique(),
        "total_order_value": placed["order_value"].sum(),
        "days_since_last_order": days_since(placed["activity_ts"]),
        "revenue": counted["total_amount"].sum(),
        "orders": counted["order_id"].nunique(),
        "active_customers": counted["customer_id"].nunique(),
        "abandoned_cart_sessions_metric": sessions["is_cart_abandoned"].astype(bool).sum(),
        "sessions_with_cart_adds_metric": with_cart.sum(),
        "sessions_with_views_metric": (sessions["product_views_count"] > 0).sum(),
        "sessions_with_cart_and_order_metric": (with_cart & (sessions["orders_placed_count"] > 0)).sum(),
        "order_count_last_365_days": placed.loc[placed_age.between(0, 365), "transaction_id"].nunique(),
        "favorites_product_price": favorites["product_price"].mean(),
        "favorites_quantity": favorites["quantity"].sum(min_count=1),  # SQL: null when every value is
        "favorites_order_value": favorites["order_value"].sum(min_count=1),
        "days_since_last_favorite": days_since(favorites["activity_ts"]),
        "cart_adds_product_price": carts["product_price"].mean(),
        "cart_adds_order_value": carts["order_value"].sum(min_count=1),
        "days_since_last_cart_add": days_since(carts["activity_ts"]),
        "orders_placed_product_price": placed["product_price"].mean(),
        "orders_placed_quantity": placed["quantity"].sum(min_count=1),
        "orders_placed_occurrences": placed["occurrence"].sum(),
        "order_placed_sessions": placed["session_id"].nunique(),
        "product_view_first_visit_epoch_metric": epoch(views["visit_start_ts"]).min(),
        "product_view_last_activity_epoch_metric": epoch(views["activity_ts"]).max(),
    }
    first_visit, last_view = naive(views["visit_start_ts"]).min(), naive(views["activity_ts"]).max()
    figures["product_view_engagement_minutes"] = round((last_view - first_visit).total_seconds() / 60, 2)
    figures["average_order_value"] = figures["revenue"] / figures["orders"]
    figures["cart_abandonment_rate"] = (
        figures["abandoned_cart_sessions_metric"] / figures["sessions_with_cart_adds_metric"]
    )
    figures["view_to_cart_rate"] = figures["sessions_with_cart_adds_metric"] / figures["sessions_with_views_metric"]
    figures["cart_to_order_rate"] = (figures["sessions_with_cart_and_order_metric"]
                                     / figures["sessions_with_cart_adds_metric"])  # fmt: skip
    figures["view_to_purchase_7d"] = _view_to_purchase(views, placed)
    return figures


def _view_to_purchase(views: pd.DataFrame, placed: pd.DataFrame) -> float:
    """Order-placed events preceded within 7 days by a view of the same product by the same customer,
    per product view."""
    keys = ["entity_id", "product_sku"]
    pairs = placed[[*keys, "activity_uuid", "activity_ts"]].merge(
        views[[*keys, "activity_ts"]].rename(columns={"activity_ts": "viewed_ts"}), on=keys
    )
    gap = pd.to_datetime(pairs["activity_ts"]) - pd.to_datetime(pairs["viewed_ts"])
    converted = pairs.loc[(gap >= pd.Timedelta(0)) & (gap <= pd.Timedelta(days=7)), "activity_uuid"].nunique()
    return converted / len(views)


def epoch(stamps: pd.Series) -> pd.Series:
    """Seconds since 1970 (UTC) of naive UTC timestamps."""
    return (naive(stamps) - pd.Timestamp("1970-01-01")).dt.total_seconds()


def naive(stamps: pd.Series) -> pd.Series:
    """Dates or timestamps as naive timestamps (Postgres may return dates or aware timestamps)."""
    return pd.to_datetime(stamps, utc=True).dt.tz_localize(None)


TIME_METRICS = {"revenue_trailing_30d", "revenue_previous_month", "revenue_mom_growth"}


def test_every_metric_equals_the_same_figure_computed_from_the_marts(built):
    defined = {m["name"] for m in yaml.safe_load(METRICS_YAML.read_text())["metrics"]}
    m = marts(built, "customer_360", "customer_segments", "orders", "web_sessions", "product_views", "favorites",
              "cart_adds", "orders_placed", "products")  # fmt: skip
    expected = expected_totals(m)
    assert set(expected) | TIME_METRICS == defined, "a metric without an independent check, or a check too many"
    found = answer(built, sorted(expected)).iloc[0]
    for name, value in expected.items():
        if pd.isna(value):  # a sum of nothing but nulls: null in SQL too
            assert pd.isna(found[name]), name
            continue
        assert float(found[name]) == pytest.approx(float(value), rel=1e-9), name
    assert sum(pd.isna(v) for v in expected.values()) <= 3  # favourites carry no quantity or value, by design


def test_every_lens_measure_is_a_metric_with_an_independent_check(built):
    """The Lens list (dbt_project/lens.yml) against the metrics MetricFlow knows and the checks above."""
    lens = yaml.safe_load((DBT_DIR / "lens.yml").read_text())["measures"]
    assert len(lens) == 34  # the spec's Lens has 34 METRIC rows
    semantic = Path(built["C360_DATA_DIR"]) / "dbt-target" / built["C360_TARGET"] / "semantic_manifest.json"
    defined = {m["name"] for m in json.loads(semantic.read_text())["metrics"]}
    m = marts(built, "customer_360", "customer_segments", "orders", "web_sessions", "product_views", "favorites",
              "cart_adds", "orders_placed", "products")  # fmt: skip
    checked = expected_totals(m)
    assert {e["metric"] for e in lens} - defined == set(), "a Lens measure MetricFlow does not know"
    assert {e["metric"] for e in lens} - set(checked) == set(), "a Lens measure without an independent check"


def test_time_metrics_follow_the_daily_and_monthly_revenue(built):
    orders = marts(built, "orders")["orders"]
    counted = orders[orders["is_counted"].astype(bool)].copy()
    counted["day"] = pd.to_datetime(counted["ordered_at"]).dt.normalize()
    daily = counted.groupby("day")["total_amount"].sum()
    found = answer(built, ["revenue_trailing_30d"], ["metric_time__day"])
    found.index = naive(found["metric_time__day"])
    for day in pd.to_datetime(sorted(daily.index))[::7]:
        window = daily[(daily.index > day - pd.Timedelta(days=30)) & (daily.index <= day)].sum()
        assert float(found.loc[day, "revenue_trailing_30d"]) == pytest.approx(window), day
    monthly = counted.groupby(counted["day"].dt.to_period("M"))["total_amount"].sum()
    growth = answer(built, ["revenue", "revenue_mom_growth"], ["metric_time__month"]).dropna(subset=["revenue"])
    growth["month"] = naive(growth["metric_time__month"]).dt.to_period("M")
    for row in growth.itertuples():
        previous = monthly.get(row.month - 1)
        assert float(row.revenue) == pytest.approx(monthly[row.month])
        if previous:
            assert float(row.revenue_mom_growth) == pytest.approx((monthly[row.month] - previous) / previous)


def lens_expected(built: dict) -> dict[str, int]:
    """Total customers by audience in California, counted from the marts."""
    m = marts(built, "customer_segments", "customers")
    california = set(m["customers"].loc[m["customers"]["state"] == "CA", "customer_id"])
    members = m["customer_segments"][m["customer_segments"]["customer_id"].isin(california)]
    expected = members.groupby("segment_name")["customer_id"].nunique().to_dict()
    unsegmented = california - set(members["customer_id"])
    if unsegmented:
        expected[None] = len(unsegmented)
    return expected


def mf_cli(built: dict, tmp_path: Path, *args: str) -> list[dict[str, str]]:
    out = tmp_path / f"mf_{len(list(tmp_path.iterdir()))}.csv"
    with env(built):
        subprocess.run([sys.executable, "-m", "c360_cli.main", "mf", "query", *args, "--csv", str(out)],
                       check=True, capture_output=True)  # fmt: skip
    with open(out, newline="") as f:
        return list(csv.DictReader(f))


def test_the_lens_query_through_the_mf_cli_equals_an_independent_count(built, tmp_path):
    expected = lens_expected(built)
    assert len(expected) >= 3  # several audiences have Californians
    rows = mf_cli(built, tmp_path, "--metrics", "total_customers", "--group-by", "segment__segment_name",
                  "--where", "{{ Dimension('customer__state') }} = 'CA'")  # fmt: skip
    found = {r["segment__segment_name"] or None: int(r["total_customers"]) for r in rows}
    assert found == expected
    with env(built), connect(settings()) as wh:  # the call is in the access log (docs/governance.md)
        _, logged = wh.query("select interface, statement, status from audit.access_log "
                             "where interface = 'mf' order by accessed_at desc limit 1")  # fmt: skip
    assert logged and logged[0][2] == "ok" and "total_customers" in logged[0][1] and "--csv" in logged[0][1]
    with env(built), connect(settings()) as wh:  # the saved query's table holds the same answer
        table = wh.fetch_frame("select * from semantic.lens_customers_by_segment_california")
    assert dict(zip(table["segment__segment_name"], table["total_customers"].astype(int), strict=True)) == expected


def saved_query_figures(built: dict) -> dict[str, pd.DataFrame]:
    """What each saved query must answer, computed with pandas from the marts (each checked against the
    landing files elsewhere: tests/dbt/test_reconciliation.py, test_web.py), never from its own SQL."""
    m = marts(built, "customer_360", "customer_segments", "orders", "web_sessions", "orders_placed")
    people, members = m["customer_360"], m["customer_segments"]
    memberships = people[["customer_id", "state"]].merge(members[["customer_id", "segment_name"]], how="left")
    by_state = (memberships.groupby(["state", "segment_name"], dropna=False)["customer_id"].nunique()
                .rename("total_customers").reset_index())  # fmt: skip
    california = by_state[by_state["state"] == "CA"].drop(columns="state")

    orders = m["orders"].assign(day=lambda o: naive(o["ordered_at"]).dt.normalize())
    counted = orders["is_counted"].astype(bool)
    orders["counted_amount"] = orders["total_amount"].astype(float).where(counted, 0.0)
    orders["counted_id"], orders["counted_customer"] = (
        orders["order_id"].where(counted),
        orders["customer_id"].where(counted),
    )
    daily = orders.groupby("day").agg(revenue=("counted_amount", "sum"), orders=("counted_id", "nunique"),
                                      active_customers=("counted_customer", "nunique")).reset_index()  # fmt: skip
    daily["average_order_value"] = daily["revenue"] / daily["orders"].where(daily["orders"] > 0)

    s = m["web_sessions"]
    s = s.assign(cart=s["cart_adds_count"] > 0, views=s["product_views_count"] > 0,
                 ordered=(s["cart_adds_count"] > 0) & (s["orders_placed_count"] > 0),
                 abandoned=s["is_cart_abandoned"].astype(bool))  # fmt: skip
    channels = s.groupby("traffic_channel", dropna=False).agg(
        sessions=("session_id", "nunique"), session_engagement_minutes=("engagement_minutes", "sum"),
        cart=("cart", "sum"), views=("views", "sum"), ordered=("ordered", "sum"), abandoned=("abandoned", "sum"),
    ).reset_index()  # fmt: skip
    channels["view_to_cart_rate"] = channels["cart"] / channels["views"].where(channels["views"] > 0)
    channels["cart_to_order_rate"] = channels["ordered"] / channels["cart"].where(channels["cart"] > 0)
    channels["cart_abandonment_rate"] = channels["abandoned"] / channels["cart"].where(channels["cart"] > 0)

    placed = m["orders_placed"]
    products = (placed.groupby(["category_name", "product_name"], dropna=False)
                .agg(order_count=("transaction_id", "nunique"), total_order_value=("order_value", "sum"))
                .reset_index())  # fmt: skip
    return {
        "lens_customers_by_segment_california": california.rename(columns={"segment_name": "segment__segment_name"}),
        "segment_sizes_by_state": by_state.rename(columns={"state": "customer__state",
                                                           "segment_name": "segment__segment_name"}),
        "daily_kpis": daily.rename(columns={"day": "metric_time__day"}),
        "channel_performance": channels.drop(columns=["cart", "views", "ordered", "abandoned"])
        .rename(columns={"traffic_channel": "session__traffic_channel"}),
        "top_products_by_category": products.rename(columns={"category_name": "order_placed__category_name",
                                                             "product_name": "order_placed__product_name"}),
    }  # fmt: skip


def _comparable(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if column.startswith("metric_time"):
            out[column] = naive(out[column])
        elif column in keys:
            out[column] = out[column].astype(object).where(out[column].notna(), None)
        else:
            out[column] = pd.to_numeric(out[column], errors="raise").astype(float)
    return out.sort_values(keys, na_position="first").reset_index(drop=True)


def test_each_semantic_table_equals_the_figures_computed_from_the_marts(built):
    want = saved_query_figures(built)
    with env(built), connect(settings()) as wh:
        assert set(layer(built).saved_queries) == set(want), "a saved query without an independent check"
        tables = {name: wh.fetch_frame(f"select * from semantic.{name}") for name in want}
    for name, table in tables.items():
        expected = want[name]
        assert sorted(table.columns) == sorted(expected.columns), name
        keys = [c for c in expected.columns if c.startswith(("metric_time", "customer__", "segment__", "session__",
                                                             "order_placed__"))]  # fmt: skip
        if name == "top_products_by_category":  # the saved query keeps the 500 largest by value
            assert len(table) == min(500, len(expected))
            expected = expected.sort_values("total_order_value", ascending=False).head(len(table))
        pd.testing.assert_frame_equal(_comparable(table[list(expected.columns)], keys), _comparable(expected, keys),
                                      check_exact=False, rtol=1e-9, obj=name)  # fmt: skip
    assert set(marts(built, "customer_segments")["customer_segments"]["segment_name"]) >= {"Frequent Buyers"}


def test_the_semantic_tables_were_built_as_of_the_run(built):
    with env(built), connect(settings()) as wh:
        days = wh.fetch_frame("select metric_time__day from semantic.daily_kpis")["metric_time__day"]
    assert pd.to_datetime(days).max().date() < AS_OF + dt.timedelta(days=1)
