"""The model families, their registered models and prediction tables: cheap to import (no
scikit-learn, no MLflow), for the Dagster definitions and the docs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Spec:
    key: str
    model_name: str  # the registered model, and the MLflow experiment of its training runs
    table: str  # where the champion's predictions land
    margin: float  # relative improvement of the primary metric a challenger needs over the champion
    supervised: bool = True  # trained on a past cutoff with labels, judged on a later one
    inputs: str = "features"  # features: customer_features; events: ml_product_events; series; orders
    reads: tuple[str, ...] = ("customer_features", "customer_labels")  # the dbt models (schema ml) it reads


SPECS = {
    "churn": Spec("churn", "c360-churn", "ml.churn_predictions", 0.005),
    "clv": Spec("clv", "c360-clv", "ml.clv_predictions", 0.01),
    "clusters": Spec("clusters", "c360-clusters", "ml.customer_clusters", 0.02, supervised=False,
                     reads=("customer_features",)),
    "recommendations": Spec("recommendations", "c360-recommendations", "ml.product_recommendations", 0.01,
                            inputs="events", reads=("ml_product_events",)),
    "channel": Spec("channel", "c360-channel", "ml.channel_recommendations", 0.01, inputs="visits",
                    reads=("ml_channel_visits",)),
    "anomalies": Spec("anomalies", "c360-anomalies", "ml.transaction_anomalies", 0.01, inputs="orders",
                      reads=("ml_order_signals",)),
    "revenue_forecast": Spec("revenue_forecast", "c360-revenue-forecast", "ml.revenue_forecast", 0.01,
                             inputs="series", reads=("ml_daily_revenue",)),
    "demand_forecast": Spec("demand_forecast", "c360-demand-forecast", "ml.demand_forecast", 0.01,
                            inputs="series", reads=("ml_daily_category_units",)),
}  # fmt: skip
