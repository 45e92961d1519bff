"""What each page and report shows, built as serving.dashboard.reports sections from the semantic layer and
the verified marts, for one role and one set of filters."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from landing import SOURCES, STALE_AFTER
from serving.access import Reader
from serving.dashboard.data import Data, Filters
from serving.dashboard.reports import Report, Section

REPORTS = {
    "executive": "Executive",
    "sales": "Sales",
    "customer": "Customer",
    "product": "Product",
    "marketing": "Marketing",
}
KPI_METRICS = {
    "revenue": "Revenue",
    "orders": "Orders",
    "active_customers": "Active customers",
    "average_order_value": "Average order value",
}
TABS = {"trends": "Trends", "outliers": "Outliers", "correlations": "Correlations", "patterns": "Patterns"}
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def default_filters(data: Data) -> Filters:
    return Filters(data.as_of - dt.timedelta(days=364), data.as_of)


def _subtitle(f: Filters) -> str:
    chosen = [f"{f.start} to {f.end}"] + [v for v in (f.segment, f.state) if v]
    return "Filters: " + ", ".join(chosen) + "."


def kpis(data: Data, who: Reader, f: Filters) -> Section:
    """The headline figures: revenue, orders, active customers and average order value from the semantic
    layer, and the customers at high churn risk from customer_360."""
    found = data.metric(who, list(KPI_METRICS), filters=f)
    rows = [(label, None if found.empty else found.iloc[0][key]) for key, label in KPI_METRICS.items()]
    high = data.customers(who, f, "count(*) as n", "and churn_risk_band = 'high'")
    rows.append(("Customers at high churn risk", int(high.iloc[0]["n"])))
    return Section("kpis", "Key figures", "kpis", pd.DataFrame(rows, columns=["label", "value"], dtype=object))


def executive(data: Data, who: Reader, f: Filters) -> Report:
    by_month = data.metric(who, ["revenue"], ["metric_time__month"], f)
    by_state = data.metric(who, ["revenue"], ["customer__state"], f).sort_values("revenue", ascending=False)
    segments = data.customers(who, f, "rfm_segment, count(*) as customers", "group by 1 order by 1")
    risk = data.customers(
        who, f, "churn_risk_band, count(*) as customers", "and churn_risk_band is not null group by 1 order by 1"
    )
    return Report(
        "executive",
        "Executive dashboard",
        [
            kpis(data, who, f),
            Section("revenue_by_month", "Revenue by month", "line", by_month, "month", "revenue"),
            Section(
                "revenue_by_state", "Revenue by state (click a bar to drill down)", "bar", by_state, "state", "revenue"
            ),
            Section("customers_by_segment", "Customers by RFM segment", "pie", segments, "rfm_segment", "customers"),
            Section("churn_risk", "Customers by churn risk band", "bar", risk, "churn_risk_band", "customers"),
        ],
        _subtitle(f),
    )


def _orders(data: Data, who: Reader, f: Filters) -> pd.DataFrame:
    """Counted orders in the date range of the filtered customers, with the customer's segment."""
    where, params = f.customer_where("c.")
    region, more = data.backend.region(who, "o.customer_id")
    sql = (
        f"select o.order_id, o.customer_id, c.rfm_segment, cast(o.total_amount as double precision) as total_amount, "
        f"o.ordered_at from {who.home}.orders as o join {who.home}.customer_360 as c on c.customer_id = "
        f"o.customer_id where o.is_counted and cast(o.ordered_at as date) between ? and ?{where}{region}"
    )
    return data.frame(who, sql, [f.start, f.end, *params, *more])


def analytics(data: Data, who: Reader, f: Filters, tab: str) -> Report:
    if tab == "trends":
        weekly = data.metric(who, ["revenue", "orders"], ["metric_time__week"], f)
        sessions = data.metric(who, ["sessions"], ["metric_time__week"], f)
        sections = [
            Section("weekly_revenue", "Weekly revenue", "line", weekly, "week", "revenue"),
            Section("weekly_orders", "Weekly orders", "line", weekly, "week", "orders"),
            Section("weekly_sessions", "Weekly web sessions", "line", sessions, "week", "sessions"),
        ]
    elif tab == "outliers":
        orders = _orders(data, who, f)
        values = orders["total_amount"]
        q1, q3 = (values.quantile(0.25), values.quantile(0.75)) if len(values) else (0.0, 0.0)
        fence = q3 + 3 * (q3 - q1)
        outliers = orders[values > fence].sort_values("total_amount", ascending=False)
        sections = [
            Section("order_value_box", "Order value by RFM segment", "box", orders, "rfm_segment", "total_amount"),
            Section(
                "order_outliers",
                "Orders above Q3 + 3 IQR",
                "table",
                outliers[["order_id", "customer_id", "rfm_segment", "total_amount", "ordered_at"]],
                note=f"{len(outliers)} of {len(orders)} orders above {fence:,.2f}",
            ),
        ]
    elif tab == "correlations":
        orders = _orders(data, who, f)
        per = orders.groupby(["customer_id", "rfm_segment"], as_index=False).agg(
            orders=("order_id", "count"), revenue=("total_amount", "sum")
        )
        per["average_order_value"] = per["revenue"] / per["orders"]
        corr = per[["orders", "revenue", "average_order_value"]].corr().round(3).reset_index(names="measure")
        sections = [
            Section(
                "orders_vs_revenue",
                "Orders and revenue per customer",
                "scatter",
                per,
                "orders",
                "revenue",
                color="rfm_segment",
            ),
            Section("correlations", "Pearson correlations per customer", "table", corr),
        ]
    elif tab == "patterns":
        daily = data.metric(who, ["revenue"], ["metric_time__day"], f)
        daily["weekday"] = pd.to_datetime(daily["day"]).dt.dayofweek.map(dict(enumerate(WEEKDAYS)))
        weekday = (
            daily.groupby("weekday", as_index=False)["revenue"]
            .sum()
            .set_index("weekday")
            .reindex(WEEKDAYS, fill_value=0.0)
            .reset_index()
        )
        channels = data.metric(who, ["sessions", "cart_to_order_rate"], ["session__traffic_channel"], f)
        sections = [
            Section("revenue_by_weekday", "Revenue by day of the week", "bar", weekday, "weekday", "revenue"),
            Section(
                "sessions_by_channel", "Sessions by traffic channel", "bar", channels, "traffic_channel", "sessions"
            ),
            Section("channel_conversion", "Cart-to-order rate by traffic channel", "table", channels),
        ]
    else:
        raise ValueError(f"unknown tab {tab!r}")
    return Report(f"analytics_{tab}", f"Analytics: {TABS[tab]}", sections, _subtitle(f))


def report(data: Data, who: Reader, key: str, f: Filters) -> Report:
    """One report of the library, over the filters' range."""
    if key == "executive":
        return executive(data, who, f)
    if key == "sales":
        monthly = data.metric(who, ["revenue", "orders", "average_order_value"], ["metric_time__month"], f)
        methods = data.metric(who, ["revenue", "orders"], ["order__payment_method"], f)
        sections = [
            Section("sales_revenue", "Revenue by month", "line", monthly, "month", "revenue"),
            Section("sales_aov", "Average order value by month", "line", monthly, "month", "average_order_value"),
            Section("sales_methods", "Revenue by payment method", "pie", methods, "payment_method", "revenue"),
            Section("sales_table", "Monthly sales", "table", monthly),
        ]
    elif key == "customer":
        states = data.customers(who, f, "state, count(*) as customers", "group by 1 order by 2 desc, 1")
        clv = data.customers(
            who,
            f,
            "cluster_name, cast(predicted_clv as double precision) as predicted_clv",
            "and cluster_name is not null",
        )
        segments = data.customers(
            who,
            f,
            "rfm_segment, count(*) as customers, avg(cast(total_order_value as double precision)) as avg_value",
            "group by 1 order by 1",
        )
        sections = [
            Section("customers_by_state", "Customers by state", "bar", states, "state", "customers"),
            Section("customers_by_segment", "Customers by RFM segment", "pie", segments, "rfm_segment", "customers"),
            Section("clv_by_cluster", "Predicted 90-day value by cluster", "box", clv, "cluster_name", "predicted_clv"),
            Section("segment_table", "RFM segments", "table", segments),
        ]
    elif key == "product":
        categories = data.metric(who, ["total_order_value", "order_count"], ["order_placed__category_name"], f)
        top = data.metric(
            who, ["total_order_value", "order_count"], ["order_placed__category_name", "order_placed__product_name"], f
        )
        top = top.sort_values(["total_order_value", "product_name"], ascending=[False, True]).head(20)
        sections = [
            Section(
                "revenue_by_category",
                "Order value by category",
                "bar",
                categories.sort_values("total_order_value", ascending=False),
                "category_name",
                "total_order_value",
            ),
            Section("top_products", "Top 20 products by order value", "table", top),
        ]
    elif key == "marketing":
        channels = data.metric(
            who,
            ["sessions", "view_to_cart_rate", "cart_to_order_rate", "cart_abandonment_rate"],
            ["session__traffic_channel"],
            f,
        )
        where, params = f.customer_where("c.")
        region, more = data.backend.region(who, "s.customer_id")
        audiences = data.frame(
            who,
            f"select s.segment_name, count(*) as members from {who.home}.customer_segments "
            f"as s join {who.home}.customer_360 as c on c.customer_id = s.customer_id where true"
            f"{where}{region} group by 1 order by 1",
            [*params, *more],
        )
        sections = [
            Section("channel_sessions", "Sessions by traffic channel", "bar", channels, "traffic_channel", "sessions"),
            Section("channel_table", "Channel performance", "table", channels),
            Section("audiences", "Audience sizes", "bar", audiences, "segment_name", "members"),
        ]
    else:
        raise ValueError(f"unknown report {key!r}: one of {', '.join(REPORTS)}")
    return Report(key, f"{REPORTS[key]} report", sections, _subtitle(f))


def quality(data: Data, who: Reader) -> Report:
    """Scores and their trend, failed checks, rejects by reason (stewards) and each source's freshness."""
    if not data.backend.postgres:  # PostgreSQL refuses by itself what the role was not granted
        who.need("marts")
    scores = data.frame(
        who,
        "select dataset, cast(score as double precision) as score, cast(previous_score as double precision) as "
        "previous_score, cast(min_score as double precision) as min_score, checks_failed, blocking_failed, "
        "failed_checks, latest_verified_at from marts.data_quality_daily order by score, dataset",
    )
    scores["alert"] = np.where(
        scores["blocking_failed"] > 0, "blocked", np.where(scores["score"] < scores["min_score"], "below minimum", "ok")
    )
    sections = [Section("scores", "Quality score per dataset (0-100)", "table", scores)]
    if who.everything:
        trend = data.frame(
            who,
            "select dataset, verified_at, cast(score as double precision) as score from "
            "quality.dataset_scores order by verified_at, dataset",
        )
        failed = data.frame(
            who,
            "select dataset, check_name, dimension, severity, outcome, failed_rows, verified_at "
            "from quality.check_results where outcome <> 'pass' order by verified_at desc, dataset, "
            "check_name limit 200",
        )
        rejects = _rejects(data, who)
        loads = data.frame(
            who,
            "select source, file, rows_read, rows_loaded, rows_rejected, status, finished_at, "
            "error from audit.load_runs order by finished_at desc limit 50",
        )
        sections += [
            Section("score_trend", "Scores over time", "line", trend, "verified_at", "score", color="dataset"),
            Section("failed_checks", "Failed checks", "table", failed),
            Section("rejects", "Rejected records by reason", "bar", rejects, "reason", "rows", color="source"),
            Section("freshness", "Freshness against each source's cadence", "table", freshness(data, who)),
            Section("etl_log", "Latest loads (ETL log)", "table", loads),
        ]
    return Report("quality", "Data quality", sections)


def _rejects(data: Data, who: Reader) -> pd.DataFrame:
    sql = data.backend.rejects_sql(who)
    return data.frame(who, sql) if sql else pd.DataFrame(columns=["source", "reason", "rows"])


def freshness(data: Data, who: Reader) -> pd.DataFrame:
    """Each source's last successful load against its stale-after window (landing.STALE_AFTER)."""
    last = data.frame(
        who, "select source, max(finished_at) as last_loaded from audit.load_runs where status = 'ok' group by 1"
    )
    found = dict(zip(last["source"], last["last_loaded"], strict=True))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = []
    for name, source in SOURCES.items():
        loaded = found.get(name)
        age = None if loaded is None else (now - pd.Timestamp(loaded).to_pydatetime()).total_seconds() / 3600
        window = STALE_AFTER[name].total_seconds() / 3600
        state = "never loaded" if age is None else ("fresh" if age <= window else "stale")
        rows.append((name, source.cadence, loaded, None if age is None else round(age, 2), window, state))
    return pd.DataFrame(rows, columns=["source", "cadence", "last_loaded", "age_hours", "stale_after_hours", "status"])


def profile(data: Data, who: Reader, customer_id: str) -> Report | None:
    """One customer's 360 view, or None when the role cannot see that customer."""
    found = data.customers(who, None, "*", "and customer_id = ?", [customer_id])
    if found.empty:
        return None
    row = found.iloc[0]
    fields = pd.DataFrame({"field": found.columns, "value": [("" if pd.isna(v) else str(v)) for v in row]})
    audiences = data.frame(
        who,
        f"select segment_name, reason, assigned_at from {who.home}.customer_segments where "
        "customer_id = ? order by segment_name",
        [customer_id],
    )
    orders = data.frame(
        who,
        f"select order_id, ordered_at, order_status, cast(total_amount as double precision) as "
        f"total_amount, is_counted from {who.home}.orders where customer_id = ? order by ordered_at",
        [customer_id],
    )
    headline = pd.DataFrame(
        [
            ("Orders", row.get("orders_count")),
            ("Total order value", row.get("total_order_value")),
            ("RFM segment", row.get("rfm_segment")),
            ("Churn probability", row.get("churn_probability")),
            ("Churn risk", row.get("churn_risk_band")),
            ("Predicted 90-day value", row.get("predicted_clv")),
            ("Cluster", row.get("cluster_name")),
        ],
        columns=["label", "value"],
        dtype=object,
    )
    sections = [
        Section("headline", f"Customer {customer_id}", "kpis", headline),
        Section("orders_over_time", "Orders", "scatter", orders, "ordered_at", "total_amount", color="order_status"),
        Section("orders", "Orders", "table", orders),
        Section("audiences", "Audiences", "table", audiences),
        Section("profile", "Profile", "table", fields),
    ]
    return Report("customer", f"Customer {customer_id}", sections)
