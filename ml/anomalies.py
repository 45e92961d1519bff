"""The anomaly family's steps (ml/anomaly.py is the model): the same train -> gate -> score as the other
families (ml/pipeline.py), over the orders' signals (dbt `ml.ml_order_signals`).

- **train**: the detector is fitted on the orders placed before the holdout cutoff and scores the orders of
  the horizon after it (out of time). Where the landing zone has confirmed fraud cases (`Settings.
  fraud_labels`), it is judged on them: precision@k (k = the confirmed orders in the horizon, the primary
  figure), recall and the flagged orders' precision, beside the amount z-score baseline. Without them the
  run logs how many it flagged, and the gate can only keep the first version.
- **gate**: challenger and champion score the same horizon; the challenger needs precision@k x 1.01.
- **score**: the champion's configuration fitted on every order before the score cutoff scores the orders of
  the last horizon: a row per order and per payment in ml.transaction_anomalies.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib

import matplotlib.pyplot as plt
import mlflow
import pandas as pd

from c360_core.settings import Settings
from c360_core.warehouse import arrow_table, connect
from ml import anomaly, predictions, registry
from ml import features as feats
from ml.catalog import SPECS
from ml.pipeline import MIN_ROWS, Report, champion_to_score, register_or_unchanged

SPEC = SPECS["anomalies"]
PRIMARY = "precision_at_k"
SIGNALS = f"select {anomaly.COLUMNS} from ml.ml_order_signals"


def _read(cfg: Settings) -> tuple[feats.Cutoffs, pd.DataFrame]:
    with connect(cfg) as wh:
        cutoffs = feats.cutoffs(wh)
        signals = wh.fetch_frame(SIGNALS)
    signals["ordered_at"] = pd.to_datetime(signals["ordered_at"])
    return cutoffs, signals.sort_values("order_id").reset_index(drop=True)


def confirmed(cfg: Settings) -> set[str] | None:
    """The confirmed fraudulent orders, or None when the landing zone has no such list."""
    if not cfg.fraud_labels.exists():
        return None
    with open(cfg.fraud_labels, newline="") as f:
        return {row["order_id"] for row in csv.DictReader(f)}


def _split(cutoffs: feats.Cutoffs, signals: pd.DataFrame, role: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The orders before a cutoff's day ends, and those of the horizon before it (the holdout's: after it)."""
    at = pd.Timestamp(cutoffs.dates[role]) + pd.Timedelta(days=1)
    when = signals["ordered_at"]
    if role == "holdout":
        return signals[when < at], signals[(when >= at) & (when < at + pd.Timedelta(days=cutoffs.horizon_days))]
    return signals[when < at], signals[(when >= at - pd.Timedelta(days=cutoffs.horizon_days)) & (when < at)]


def _fingerprint(signals: pd.DataFrame, labels: set[str] | None, cutoffs: feats.Cutoffs) -> str:
    # the orders themselves, not the signals derived from them: a window's double-precision spread can differ in
    # its last bit from one rebuild to the next, and a new fingerprint would register a version of unchanged data
    raw = ["order_id", "customer_id", "ordered_at", "payment_method", "total_amount", "line_items", "ships_elsewhere"]
    data = pd.util.hash_pandas_object(signals[raw], index=False).sum()
    config = (anomaly.FOREST_SHARE, anomaly.TINY, anomaly.DEAR, anomaly.OUTLIER_RATIO, anomaly.FEATURES)
    spec = f"{data}|{sorted(labels or [])}|{cutoffs.dates}|{SPEC.margin}|{config}"
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


def _too_little(before: pd.DataFrame, after: pd.DataFrame) -> str | None:
    """Why the orders around the holdout cutoff cannot train a detector (train skips, score has no champion)."""
    if len(before) >= MIN_ROWS and not after.empty:
        return None
    return f"too little history: {len(before)} orders before the holdout cutoff, {len(after)} after it"


def train(cfg: Settings, key: str = SPEC.key) -> Report:
    cutoffs, signals = _read(cfg)
    before, after = _split(cutoffs, signals, "holdout")
    if why := _too_little(before, after):
        return Report(SPEC.key, "skipped", why, info={"cutoffs": cutoffs.dates})
    labels = confirmed(cfg)
    detector = anomaly.fit(before)
    scored = detector.score(after)
    metrics = {"orders_scored": float(len(after)), "flagged": float(scored["is_anomaly"].sum())}
    if labels is not None:
        metrics |= anomaly.judge(scored, labels)
        baseline = anomaly.judge(anomaly.zscore_baseline(after, before), labels)
        metrics |= {f"baseline_amount_zscore_{k}": v for k, v in baseline.items() if k not in ("planted",)}
    fingerprint = _fingerprint(signals, labels, cutoffs)
    with mlflow.start_run(experiment_id=registry.experiment_id(cfg, SPEC.model_name),
                          run_name=f"anomalies {cutoffs.dates['holdout']}") as run:  # fmt: skip
        mlflow.set_tags({"mlflow.source.git.commit": registry.git_commit(), "c360.family": SPEC.key,
                         "c360.fingerprint": fingerprint, "c360.target": cfg.target})  # fmt: skip
        mlflow.log_params({"algorithm": "isolation forest + 4 rules", "trees": 200,
                           "forest_share": anomaly.FOREST_SHARE, "tiny_quantile": anomaly.TINY,
                           "dear_quantile": anomaly.DEAR, "outlier_ratio": anomaly.OUTLIER_RATIO,
                           "cutoff_holdout": cutoffs.dates["holdout"], "cutoff_score": cutoffs.dates["score"],
                           "orders_before_holdout": len(before), "labels": "yes" if labels is not None else "none",
                           "data_fingerprint": fingerprint})  # fmt: skip
        mlflow.log_metrics(metrics)
        mlflow.log_figure(_figure(scored, labels), "plots/anomaly_scores.png")
        plt.close("all")
        registry.log_table(scored.sort_values("anomaly_score", ascending=False).head(200), "tables/top_orders.json")
        uri = registry.log_object(detector, after.head(20))
    info = {"cutoffs": cutoffs.dates, "fingerprint": fingerprint, "run_id": run.info.run_id}
    metrics.setdefault(PRIMARY, 0.0)  # no confirmed cases to judge on: any later version judged beats it
    return register_or_unchanged(cfg, SPEC, (fingerprint, uri), metrics, primary=PRIMARY, info=info,
                                 higher_is_better=True)  # fmt: skip


def _figure(scored: pd.DataFrame, labels: set[str] | None):
    fig, ax = plt.subplots(figsize=(6, 3.4), dpi=100)
    planted = scored["order_id"].isin(labels or set())
    ax.hist([scored.loc[~planted, "anomaly_score"], scored.loc[planted, "anomaly_score"]], bins=40, log=True,
            label=["other orders", "confirmed fraud"], color=["#7f7f7f", "#d62728"])  # fmt: skip
    ax.set(title="Anomaly score, orders of the holdout horizon", xlabel="rules broken + forest share")
    ax.legend(fontsize=8)
    return fig


def evaluate(cfg: Settings, key: str, versions: list) -> list[float]:
    """Each version's precision@k on the orders of today's holdout horizon."""
    cutoffs, signals = _read(cfg)
    _, after = _split(cutoffs, signals, "holdout")
    labels = confirmed(cfg) or set()
    figures = []
    for version in versions:  # each as it was fitted: on the orders before the holdout cutoff of its day
        detector = registry.load_object(SPEC.model_name, version.version)
        figures.append(anomaly.judge(detector.score(after), labels)[PRIMARY] if labels else 0.0)
    return figures


def score(cfg: Settings, key: str = SPEC.key) -> Report:
    cutoffs, signals = _read(cfg)
    champion = champion_to_score(cfg, SPEC, unavailable=_too_little(*_split(cutoffs, signals, "holdout")))
    chosen = registry.load_object(SPEC.model_name, champion.version)
    before, recent = _split(cutoffs, signals, "score")
    detector = anomaly.fit(before, trees=chosen.forest.n_estimators)
    scored = detector.score(recent).merge(recent, on="order_id")
    fixed = (SPEC.model_name, int(champion.version), dt.date.fromisoformat(cutoffs.dates["score"]),
             dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0))  # fmt: skip
    rows = []
    for r in scored.itertuples():
        common = (r.order_id, r.customer_id, r.ordered_at.to_pydatetime(), float(r.total_amount),
                  round(float(r.anomaly_score), 6), bool(r.is_anomaly),
                  r.reasons if isinstance(r.reasons, str) else None)  # fmt: skip
        rows.append(("order", r.order_id, *common, *fixed))
        if isinstance(r.transaction_id, str):
            rows.append(("transaction", r.transaction_id, *common, *fixed))
    with connect(cfg) as wh:
        predictions.replace(wh, SPEC.table, arrow_table(predictions.TABLES[SPEC.table], rows))
    flagged = int(scored["is_anomaly"].sum())
    return Report(SPEC.key, "scored", f"{len(scored):,} orders of the last {cutoffs.horizon_days} days scored by "
                  f"version {champion.version}'s configuration, {flagged:,} flagged", int(champion.version),
                  int(champion.version), info={"rows": len(rows)})  # fmt: skip
