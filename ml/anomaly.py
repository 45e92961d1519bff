"""Fraud-like anomalies among orders and their payments (docs/ml.md, Anomalies): scikit-learn's Isolation
Forest over each order's signals (dbt `ml.ml_order_signals`), plus four rules that say why, each the
signature of a known fraud pattern.

- **card testing**: 3 or more orders by one customer within an hour either side, this one among the
  cheapest tenth of orders;
- **high-value first order elsewhere**: a customer's first order, among the dearest twentieth, shipped to
  an address that is not the billing one;
- **payment hopping**: 2 or more changes of payment method by one customer within a day either side;
- **amount far from the customer's history**: 5 times or more the mean of 3 or more earlier orders.

An order's score is the number of rules it breaks plus its Isolation Forest score as a share of the
training orders it is more anomalous than (0..1): rule breakers rank first, the forest orders the rest and
the ties. An order is flagged when it breaks a rule, or the forest ranks it above all but `FOREST_SHARE` of
the training orders (what no rule knows yet).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

SEED = 42
FOREST_SHARE = 0.001  # of training orders: above it, the forest alone flags an order
TINY, DEAR = 0.10, 0.95  # quantiles of the training orders' totals
OUTLIER_RATIO, OUTLIER_HISTORY = 5.0, 3
FEATURES = ["log_amount", "log_amount_ratio", "amount_z", "first_order", "ships_elsewhere", "orders_within_hour",
            "orders_within_day", "method_changes_within_day", "line_items"]  # fmt: skip
COLUMNS = ("order_id, customer_id, transaction_id, ordered_at, payment_method, total_amount, line_items, "
           "ships_elsewhere, prior_orders, prior_mean_amount, prior_std_amount, orders_within_hour, "
           "orders_within_day, method_changes_within_day")  # fmt: skip


def features(signals: pd.DataFrame) -> pd.DataFrame:
    """The forest's inputs: amounts on a log scale, against the customer's own history where there is one."""
    amount = signals["total_amount"].astype("float64")
    mean, std = signals["prior_mean_amount"].astype("float64"), signals["prior_std_amount"].astype("float64")
    ratio = np.log((amount + 1) / (mean + 1)).where(signals["prior_orders"] > 0, 0.0)
    z = ((amount - mean) / std).where((signals["prior_orders"] >= 2) & (std > 0), 0.0).clip(-20, 20)
    return pd.DataFrame({
        "log_amount": np.log1p(amount), "log_amount_ratio": ratio.fillna(0.0), "amount_z": z.fillna(0.0),
        "first_order": (signals["prior_orders"] == 0).astype("float64"),
        "ships_elsewhere": signals["ships_elsewhere"].astype("float64"),
        "orders_within_hour": signals["orders_within_hour"].astype("float64"),
        "orders_within_day": signals["orders_within_day"].astype("float64"),
        "method_changes_within_day": signals["method_changes_within_day"].astype("float64"),
        "line_items": signals["line_items"].astype("float64"),
    }, index=signals.index)  # fmt: skip


def rules(signals: pd.DataFrame, tiny: float, dear: float) -> pd.DataFrame:
    """One column per rule: its reason where the order breaks it, else None."""
    amount = signals["total_amount"].astype("float64")
    burst = (signals["orders_within_hour"] >= 3) & (amount <= tiny)
    first = (signals["prior_orders"] == 0) & signals["ships_elsewhere"].astype(bool) & (amount >= dear)
    hopping = signals["method_changes_within_day"] >= 2
    ratio = amount / signals["prior_mean_amount"].astype("float64")
    outlier = (signals["prior_orders"] >= OUTLIER_HISTORY) & (ratio >= OUTLIER_RATIO)

    def reason(mask: pd.Series, text) -> pd.Series:
        return pd.Series([text(r) if m else None for m, r in zip(mask, signals.itertuples(), strict=True)],
                         index=signals.index, dtype=object)  # fmt: skip

    return pd.DataFrame({
        "card_testing": reason(burst, lambda r: f"card testing: {r.orders_within_hour} orders within an hour, "
                                                f"this one {r.total_amount:.2f} (the cheapest tenth: {tiny:.2f})"),
        "high_value_first_order": reason(first, lambda r: f"first order of {r.total_amount:.2f} (dearest "
                                                          f"twentieth: {dear:.2f}) shipped to another address"),
        "payment_hopping": reason(hopping, lambda r: f"payment hopping: {r.method_changes_within_day} changes of "
                                                     "payment method within a day"),
        "amount_outlier": reason(outlier, lambda r: f"amount {r.total_amount / r.prior_mean_amount:.1f} times the "
                                                    f"mean of the customer's {r.prior_orders} earlier orders"),
    })  # fmt: skip


@dataclass
class Detector:
    """A fitted forest, the forest scores of its training orders (sorted), and the rules' amount thresholds."""

    forest: IsolationForest
    training_scores: np.ndarray
    tiny: float
    dear: float

    def score(self, signals: pd.DataFrame) -> pd.DataFrame:
        """Per order: order_id, anomaly_score, is_anomaly and reasons ('; '-joined, the forest's when no rule)."""
        raw = -self.forest.score_samples(features(signals)[FEATURES])
        share = np.searchsorted(self.training_scores, raw, side="right") / len(self.training_scores)
        broken = rules(signals, self.tiny, self.dear)
        count = broken.notna().sum(axis=1).to_numpy()
        forest_flag = share > 1 - FOREST_SHARE
        reasons = [
            "; ".join(r for r in row if r) or (f"unusual for the forest: more than {s:.1%} of orders" if f else None)
            for row, s, f in zip(broken.itertuples(index=False), share, forest_flag, strict=True)
        ]  # fmt: skip
        return pd.DataFrame({"order_id": signals["order_id"].to_numpy(), "anomaly_score": count + share,
                             "is_anomaly": (count > 0) | forest_flag, "reasons": reasons})  # fmt: skip

    def predict(self, signals: pd.DataFrame) -> pd.DataFrame:
        return self.score(signals)


def fit(signals: pd.DataFrame, trees: int = 200) -> Detector:
    x = features(signals)[FEATURES]
    forest = IsolationForest(n_estimators=trees, random_state=SEED, n_jobs=1).fit(x)
    amount = signals["total_amount"].astype("float64")
    return Detector(forest, np.sort(-forest.score_samples(x)), float(amount.quantile(TINY)),
                    float(amount.quantile(DEAR)))  # fmt: skip


def zscore_baseline(signals: pd.DataFrame, train: pd.DataFrame) -> pd.DataFrame:
    """The single-rule baseline: |amount z-score| against the customer's earlier orders (two or more), else
    against the training orders; flagged at 3."""
    amount = signals["total_amount"].astype("float64")
    mean, std = signals["prior_mean_amount"].astype("float64"), signals["prior_std_amount"].astype("float64")
    everyone = train["total_amount"].astype("float64")
    own = (signals["prior_orders"] >= 2) & (std > 0)
    z = ((amount - mean) / std).where(own, (amount - everyone.mean()) / everyone.std()).abs().fillna(0.0)
    return pd.DataFrame({"order_id": signals["order_id"].to_numpy(), "anomaly_score": z.to_numpy(),
                         "is_anomaly": (z >= 3).to_numpy()})  # fmt: skip


def judge(scored: pd.DataFrame, planted: set[str]) -> dict[str, float]:
    """precision@k (k = the planted orders among those scored), recall and precision of the flagged; all 0
    when no planted order is among them."""
    truth = set(scored["order_id"]) & planted
    k = len(truth)
    top = scored.sort_values(["anomaly_score", "order_id"], ascending=[False, True]).head(k)
    flagged = set(scored.loc[scored["is_anomaly"], "order_id"])
    return {"precision_at_k": len(set(top["order_id"]) & truth) / k if k else 0.0,
            "recall": len(flagged & truth) / k if k else 0.0,
            "flagged_precision": len(flagged & truth) / len(flagged) if flagged else 0.0,
            "planted": float(k), "flagged": float(len(flagged))}  # fmt: skip
