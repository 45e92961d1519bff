"""Answers for the customers the churn, CLV and cluster champions cannot score (docs/ml.md, "Every buyer
answered").

The champions learn from the buyers of the lookback: the history the train cutoff has, capped at
`ml_max_lookback_days`. A buyer whose last counted order lies before it, a lapsed buyer, has no order
features to score on, and is the one a retention team most needs to see. Each lapsed buyer gets:
- **churn**: the band `lapsed`, with no probability (no model saw such recencies), and the reason: no
  counted order in the lookback, the last one N days ago, M orders in all;
- **CLV**: the BG/NBD + Gamma-Gamma baseline (ml/btyd.py), fitted on every customer's whole history at the
  score cutoff, as expected revenue in the horizon: it needs only the number, spacing and value of orders,
  and gives a long-quiet customer a small, not a zero, value;
- **cluster**: `Lapsed buyers`.
A prospect (never a counted order) who browsed in the lookback gets the cluster `Browsing prospects`.

These rows carry `model_version` 0 and a `model_name` that names the rule or the baseline: no registered
model made them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from c360_core.warehouse import Warehouse
from ml.btyd import BGNBD, GammaGamma
from ml.features import Cutoffs
from ml.modeling import btyd_inputs

LAPSED_BAND = "lapsed"
LAPSED_CLUSTER = (-1, "Lapsed buyers")
BROWSING_CLUSTER = (-2, "Browsing prospects")
RULE = "rule: lapsed buyer"
BROWSING_RULE = "rule: browsing prospect"
BASELINE = "baseline: BG/NBD + Gamma-Gamma"
HISTORY = ("select customer_id, frequency_orders, monetary_value, recency_days, first_order_days_ago "
           "from ml.ml_order_history order by customer_id")  # fmt: skip
BROWSERS = ("select customer_id from ml.customer_features where cutoff_role = 'score' and not is_buyer "
            "and coalesce(sessions_count, 0) > 0 order by customer_id")  # fmt: skip


@dataclass(frozen=True)
class Answers:
    """Rows for one family's table: the customers, their values by column, and who made them."""

    customers: list[str]
    values: dict[str, list]
    model_name: str


def answers(key: str, wh: Warehouse, cutoffs: Cutoffs, scored: set[str]) -> list[Answers]:
    """The rows a family adds for the customers its champion did not score (none for other families)."""
    if key not in ("churn", "clv", "clusters"):
        return []
    history = wh.fetch_frame(HISTORY)
    lapsed = history[~history["customer_id"].isin(scored)]
    customers = lapsed["customer_id"].tolist()
    if key == "churn":
        reasons = [f"no counted order in the last {cutoffs.lookback_days} days: the last {int(r.recency_days)} days "
                   f"ago, {int(r.frequency_orders)} in all" for r in lapsed.itertuples()]  # fmt: skip
        values = {
            "churn_probability": [None] * len(customers),
            "churn_risk_band": [LAPSED_BAND] * len(customers),
            "reason_1": reasons,
            "reason_2": [None] * len(customers),
            "reason_3": [None] * len(customers),
        }
        return [Answers(customers, values, RULE)]
    if key == "clv":
        return [Answers(customers, {"predicted_clv": expected_revenue(history, lapsed, cutoffs.horizon_days)},
                        BASELINE)]  # fmt: skip
    buyers = set(history["customer_id"])  # once: a set per browser was quadratic (minutes at 100,000)
    browsers = [c for c in wh.fetch_frame(BROWSERS)["customer_id"] if c not in buyers]
    return [
        Answers(customers, _cluster(LAPSED_CLUSTER, len(customers)), RULE),
        Answers(browsers, _cluster(BROWSING_CLUSTER, len(browsers)), BROWSING_RULE),
    ]


def _cluster(cluster: tuple[int, str], n: int) -> dict[str, list]:
    return {"cluster_id": [cluster[0]] * n, "cluster_name": [cluster[1]] * n}


def expected_revenue(history: pd.DataFrame, rows: pd.DataFrame, horizon: int) -> list[float]:
    """BG/NBD's expected orders in the horizon times Gamma-Gamma's expected order value, both fitted on every
    customer's whole history (`history`), for `rows`."""
    if rows.empty:
        return []
    fit = history.assign(avg_order_value=history["monetary_value"] / history["frequency_orders"])
    rows = rows.assign(avg_order_value=rows["monetary_value"] / rows["frequency_orders"])
    orders = BGNBD.fit(*btyd_inputs(fit)).expected_purchases(horizon, *btyd_inputs(rows))
    spend = GammaGamma.fit(fit["frequency_orders"], fit["avg_order_value"])
    value = spend.expected_spend(rows["frequency_orders"], rows["avg_order_value"])
    return [round(float(v), 6) for v in orders * value]
