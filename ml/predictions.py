"""The prediction tables in the warehouse's `ml` schema, identical on DuckDB, Postgres and Spark.

Each scoring run replaces a table whole, in one transaction (on Spark, in one `insert overwrite`): readers
see the previous champion's predictions or the new ones, never a mix. Every row names the model version that made it.
"""

from __future__ import annotations

import pyarrow as pa

from c360_core.warehouse import Warehouse, create_table

PROVENANCE = {"model_name": "varchar", "model_version": "integer", "cutoff_date": "date", "scored_at": "timestamp"}
TABLES: dict[str, dict[str, str]] = {
    "ml.churn_predictions": {"customer_id": "varchar", "churn_probability": "double", "churn_risk_band": "varchar",
                             "reason_1": "varchar", "reason_2": "varchar", "reason_3": "varchar", **PROVENANCE},
    "ml.clv_predictions": {"customer_id": "varchar", "predicted_clv": "double", "horizon_days": "integer",
                           **PROVENANCE},
    "ml.customer_clusters": {"customer_id": "varchar", "cluster_id": "integer", "cluster_name": "varchar",
                             **PROVENANCE},
    "ml.product_recommendations": {"customer_id": "varchar", "recommendation_rank": "integer",
                                   "product_id": "varchar", "score": "double", "reason": "varchar", **PROVENANCE},
    "ml.product_associations": {"antecedent_product_id": "varchar", "consequent_product_id": "varchar",
                                "orders_together": "bigint", "support": "double", "confidence": "double",
                                "lift": "double", **PROVENANCE},
    "ml.channel_recommendations": {"customer_id": "varchar", "next_best_channel": "varchar",
                                   "purchase_probability_30d": "double", "visit_conversion_rate": "double",
                                   "visits_through_channel": "integer", "reason": "varchar", **PROVENANCE},
    "ml.transaction_anomalies": {"record_type": "varchar", "record_id": "varchar", "order_id": "varchar",
                                 "customer_id": "varchar", "occurred_at": "timestamp", "amount": "double",
                                 "anomaly_score": "double", "is_anomaly": "boolean", "reasons": "varchar",
                                 **PROVENANCE},
    "ml.revenue_forecast": {"forecast_date": "date", "horizon_days": "integer", "revenue_forecast": "double",
                            "revenue_lower_80": "double", "revenue_upper_80": "double", "revenue_lower_95": "double",
                            "revenue_upper_95": "double", **PROVENANCE},
    "ml.demand_forecast": {"product_category": "varchar", "week_start": "date", "week_end": "date",
                           "horizon_weeks": "integer", "units_forecast": "double", "units_lower_80": "double",
                           "units_upper_80": "double", "units_lower_95": "double", "units_upper_95": "double",
                           **PROVENANCE},
}  # fmt: skip


def ensure_tables(wh: Warehouse) -> None:
    """Every prediction table exists, empty until a champion scores (customer_360 reads them all)."""
    for table, columns in TABLES.items():
        create_table(wh, table, columns)


def replace(wh: Warehouse, table: str, rows: pa.Table) -> None:
    ensure_tables(wh)
    with wh.transaction():
        wh.insert_arrow(table, rows, replace=True)
