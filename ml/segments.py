"""Behavioural segmentation: k-means over scaled purchase and web behaviour, k by silhouette.

Clusters are named by a fixed rule from their centroids (z-scores of the log-scaled features):
value from monetary value, frequency from the order count, and a recency qualifier, e.g.
"high-value frequent buyers, recently active". docs/ml.md states the rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.impute import SimpleImputer
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from ml import plots
from ml.modeling import SEED, Trained, matrix

BEHAVIOUR = ["frequency_orders", "monetary_value", "avg_order_value", "recency_days", "orders_90d",
             "distinct_categories", "sessions_count", "product_views", "cart_adds", "engagement_minutes"]  # fmt: skip
K_RANGE = range(2, 9)
SILHOUETTE_ROWS = 10_000  # silhouette is quadratic in rows: scored on a fixed sample above this
LEVEL = 0.5  # |z| beyond which a centroid counts as high or low


def behaviour(features: list[str]) -> list[str]:
    """The behavioural features that have data (web behaviour drops out without web analytics)."""
    return [f for f in BEHAVIOUR if f in features]


def pipeline(k: int) -> Pipeline:
    """The odd missing value (a buyer without a defined ratio) takes the feature's median."""
    return Pipeline([
        ("impute", SimpleImputer(strategy="median")),
        ("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
        ("scale", StandardScaler()),
        ("kmeans", KMeans(n_clusters=k, n_init=10, random_state=SEED)),
    ])  # fmt: skip


def silhouette(model: Pipeline, x: pd.DataFrame) -> float:
    sample = x.sample(n=min(len(x), SILHOUETTE_ROWS), random_state=SEED)
    return float(silhouette_score(model[:-1].transform(sample), model.predict(sample)))


def name(z: pd.Series) -> str:
    value = (
        "high-value" if z["monetary_value"] > LEVEL else "low-value" if z["monetary_value"] < -LEVEL else "mid-value"
    )
    often = z["frequency_orders"]
    frequency = "frequent" if often > LEVEL else "one-off" if often < -LEVEL else "regular"
    recency = ", lapsing" if z["recency_days"] > LEVEL else ", recently active" if z["recency_days"] < -LEVEL else ""
    return f"{value} {frequency} buyers{recency}"


def names(centroids: pd.DataFrame) -> list[str]:
    """The rule's name per cluster; clusters the rule names alike get their most distinctive other trait."""
    base = [name(row) for _, row in centroids.iterrows()]
    out = []
    for i, text in enumerate(base):
        others = centroids.drop(columns=["monetary_value", "frequency_orders", "recency_days"]).iloc[i]
        trait = others.abs().idxmax()
        extra = f" ({'high' if others[trait] > 0 else 'low'} {trait.replace('_', ' ')})"
        out.append(text + extra if base.count(text) > 1 else text)
    return [t if out.count(t) == 1 else f"{t} #{i}" for i, t in enumerate(out)]


def profile(model: Pipeline, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Size, feature means and centroid z-scores of each cluster, with its name."""
    labels = model.predict(matrix(frame, columns))
    centroids = pd.DataFrame(model["kmeans"].cluster_centers_, columns=columns)
    table = frame[columns].astype("float64").groupby(labels).mean().add_prefix("mean_")
    table.insert(0, "size", pd.Series(labels).value_counts().sort_index())
    table = table.join(centroids.add_prefix("z_"))
    table.insert(0, "cluster_name", names(centroids))
    return table.rename_axis("cluster_id").reset_index()


def train(frame: pd.DataFrame, features: list[str]) -> Trained:
    columns = behaviour(features)
    x = matrix(frame, columns)
    scores = {k: silhouette(pipeline(k).fit(x), x) for k in K_RANGE if k < len(x)}
    chosen = max(scores, key=scores.get)
    model = pipeline(chosen).fit(x)
    table = profile(model, frame, columns)
    metrics = {"silhouette": scores[chosen], **{f"silhouette_k{k}": s for k, s in scores.items()}}
    return Trained(
        model=model,
        features=columns,
        primary_metric="silhouette",
        higher_is_better=True,
        metrics=metrics,
        params={"algorithm": "kmeans", "k": chosen, "k_range": f"{min(K_RANGE)}-{max(K_RANGE)}", "rows": len(x)},
        figures={"silhouette_by_k.png": plots.silhouettes(scores, chosen),
                 "cluster_profiles.png": plots.profiles(table, columns)},
        tables={"cluster_profiles.json": table},
    )  # fmt: skip


def evaluate(model: Pipeline, frame: pd.DataFrame, features: list[str]) -> float:
    """The gate's figure: silhouette of the model's clusters on today's customers."""
    return silhouette(model, matrix(frame, features))


def assign(model: Pipeline, frame: pd.DataFrame, features: list[str]) -> tuple[np.ndarray, list[str]]:
    """Cluster ids and names for `frame` (names are the model's own profile names)."""
    centroids = pd.DataFrame(model["kmeans"].cluster_centers_, columns=features)
    labels = model.predict(matrix(frame, features))
    cluster_names = names(centroids)
    return labels, [cluster_names[i] for i in labels]
