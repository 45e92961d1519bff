"""The point-in-time feature table (dbt `ml.customer_features`) as training and scoring frames.

dbt computes every feature for three cutoffs (`ml.ml_cutoffs`): train, holdout and score. Here we
only read them, pick the feature groups that have data, and fingerprint what a model saw.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from c360_core.warehouse import Warehouse

# Feature groups (docs/ml.md). A group with no data at all (a company without web analytics, a CRM
# without demographics) is left out of training and scoring, never filled with made-up values.
GROUPS: dict[str, list[str]] = {
    "rfm": ["recency_days", "frequency_orders", "monetary_value", "avg_order_value", "first_order_days_ago",
            "mean_days_between_orders", "order_gap_ratio", "canceled_or_returned_share", "discount_share"],
    "trends": ["orders_30d", "orders_90d", "revenue_30d", "revenue_90d"],
    "web": ["sessions_count", "sessions_7d", "sessions_30d", "sessions_30d_share", "sessions_since_last_order",
            "product_views", "favorites", "cart_adds", "cart_abandonment_rate", "engagement_minutes",
            "days_since_last_session", "mean_days_between_sessions", "session_gap_ratio"],
    "crm": ["age", "tenure_days", "loyalty_tier", "number_of_children", "annual_income", "is_married",
            "had_child_recently", "changed_marital_status_recently", "moved_recently"],
    "preferences": ["items_per_order", "distinct_categories", "top_category_share", "avg_unit_price"],
}  # fmt: skip
ALL_FEATURES = [f for columns in GROUPS.values() for f in columns]
GROUP_OF = {f: g for g, columns in GROUPS.items() for f in columns}
ROLES = ("train", "holdout", "score")


@dataclass(frozen=True)
class Cutoffs:
    """The cutoff date of each role and the shared lookback and horizon (days)."""

    dates: dict[str, str]
    lookback_days: int
    horizon_days: int


@dataclass
class FeatureSet:
    """The features a model uses, and why the others are out."""

    columns: list[str]
    groups_used: list[str]
    groups_absent: list[str]
    dropped: dict[str, str] = field(default_factory=dict)  # column -> reason


def cutoffs(wh: Warehouse) -> Cutoffs:
    frame = wh.fetch_frame("select cutoff_role, cutoff_date, lookback_days, horizon_days from ml.ml_cutoffs")
    dates = {r.cutoff_role: str(pd.Timestamp(r.cutoff_date).date()) for r in frame.itertuples()}
    lookback = frame["lookback_days"].dropna()
    return Cutoffs(dates, int(lookback.iloc[0]) if len(lookback) else 0, int(frame["horizon_days"].iloc[0]))


def load(wh: Warehouse, role: str, labels: bool = False, buyers_only: bool = True,
         customer_id: str | None = None) -> pd.DataFrame:  # fmt: skip
    """The feature rows of one cutoff role (with its labels), ordered by customer for reproducibility; one
    customer's row alone with `customer_id`."""
    assert role in ROLES
    columns = ", ".join(f"features.{c}" for c in ["customer_id", "is_buyer", "lookback_days", *ALL_FEATURES])
    label_columns = ", labels.is_churned, labels.future_orders, labels.future_revenue" if labels else ""
    join = (
        " inner join ml.customer_labels as labels"
        " on features.customer_id = labels.customer_id and features.cutoff_date = labels.cutoff_date"
        if labels
        else ""
    )
    where = " and features.is_buyer" if buyers_only else ""
    params = [role]
    if customer_id is not None:
        where += " and features.customer_id = ?"
        params.append(customer_id)
    frame = wh.fetch_frame(
        f"select {columns}{label_columns} from ml.customer_features as features{join}"
        f" where features.cutoff_role = ?{where} order by features.customer_id",
        params,
    )
    try:  # every feature as a double in one step (one customer's row: ~0.5 ms, not ~10 ms column by column)
        frame[ALL_FEATURES] = frame[ALL_FEATURES].to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):  # a column that is not numeric throughout: what parses, else missing
        for column in ALL_FEATURES:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    if labels:
        frame["future_revenue"] = frame["future_revenue"].astype("float64")
    return frame.reset_index(drop=True)


def select_features(train: pd.DataFrame, candidates: list[str] | None = None) -> FeatureSet:
    """Keep the features with information in the training rows; a group is used if any of its are kept.

    An all-null column is a source the company does not have (web analytics, demographics); a
    constant column carries no information. Both are dropped and named, never imputed.
    """
    kept, dropped = [], {}
    for column in candidates or ALL_FEATURES:
        values = train[column]
        if values.isna().all():
            dropped[column] = "no data before the cutoff"
        elif values.nunique(dropna=True) <= 1 and not values.isna().any():
            dropped[column] = "constant"
        else:
            kept.append(column)
    used = [g for g in GROUPS if any(GROUP_OF[c] == g for c in kept)]
    return FeatureSet(kept, used, [g for g in GROUPS if g not in used], dropped)


def fingerprint(*frames: pd.DataFrame) -> str:
    """A hash of the rows a model saw: same data, same fingerprint, whatever the engine."""
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(",".join(frame.columns).encode())
        values = frame.copy()
        for column in values.columns:
            if pd.api.types.is_numeric_dtype(values[column]) or pd.api.types.is_bool_dtype(values[column]):
                values[column] = np.round(values[column].astype("float64"), 6)
        digest.update(pd.util.hash_pandas_object(values.astype(str), index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]
