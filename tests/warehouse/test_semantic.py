"""The semantic layer on each target: every metric MetricFlow answers equals the same figure computed
here with pandas from the marts, the Lens query through the real `mf` CLI equals an independent
count, and each semantic.* table equals its saved query."""

from __future__ import annotations

import csv
import datetime as dt
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
from tests.warehouse.conftest import AS_OF, env

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
    }
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
        assert float(found[name]) == pytest.approx(float(value), rel=1e-9), name


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


def test_each_semantic_table_equals_its_saved_query(built):
    with env(built), connect(settings()) as wh:
        sl = layer(built)
        assert len(sl.saved_queries) >= 5
        for name in sl.saved_queries:
            table = wh.fetch_frame(f"select * from semantic.{name}")
            fresh = wh.fetch_frame(sl.sql(name))
            assert len(table) > 0, name
            key = list(table.columns)
            pd.testing.assert_frame_equal(table.sort_values(key).reset_index(drop=True),
                                          fresh.sort_values(key).reset_index(drop=True), check_dtype=False)  # fmt: skip
    assert set(marts(built, "customer_segments")["customer_segments"]["segment_name"]) >= {"Frequent Buyers"}


def test_the_semantic_tables_were_built_as_of_the_run(built):
    with env(built), connect(settings()) as wh:
        days = wh.fetch_frame("select metric_time__day from semantic.daily_kpis")["metric_time__day"]
    assert pd.to_datetime(days).max().date() < AS_OF + dt.timedelta(days=1)
