"""The recommendations family's steps (ml/recommend.py is the model): the same train -> gate -> score as the
other families (ml/pipeline.py), over ml.ml_product_events instead of the customer features.

- **train**: fit on the events before the holdout cutoff, judge on each customer's next order in the
  horizon after it (recall, precision and NDCG at 10, beside the popularity and category-popularity
  baselines), log to MLflow and register a `challenger`; nothing new when the data and the configuration
  are unchanged.
- **gate**: the challenger and the champion recommend for the same holdout customers from the same history;
  the challenger needs the family's margin on recall@10.
- **score**: the champion's blend fitted again on all of today's history (a model fitted before the holdout
  would not know the newest products), a top 10 for every customer with any history, into
  ml.product_recommendations, and the day's rules into ml.product_associations.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import matplotlib.pyplot as plt
import mlflow
import pandas as pd

from c360_core.settings import Settings
from c360_core.warehouse import arrow_table, connect
from ml import features as feats
from ml import predictions, recommend, registry
from ml.catalog import SPECS
from ml.pipeline import MIN_ROWS, Report, champion_to_score, register_or_unchanged

SPEC = SPECS["recommendations"]
PRIMARY = f"recall_at_{recommend.TOP_K}"
EVENTS = "select customer_id, product_id, event_action, order_id, event_at from ml.ml_product_events"
# the products on sale now: a discontinued one is neither learned as a candidate nor recommended
CATALOG = "select product_id, product_name, product_category from marts.products where not is_discontinued"


def _read(cfg: Settings) -> tuple[feats.Cutoffs, pd.DataFrame, pd.DataFrame]:
    with connect(cfg) as wh:
        cutoffs = feats.cutoffs(wh)
        events = wh.fetch_frame(EVENTS)
        catalog = wh.fetch_frame(CATALOG)
    events["event_at"] = pd.to_datetime(events["event_at"])
    return cutoffs, events, catalog


def _holdout(cutoffs: feats.Cutoffs, events: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, set]]:
    """The history before the holdout cutoff, and the next order in the horizon after it of every customer
    who has some history."""
    start = pd.Timestamp(cutoffs.dates["holdout"])
    end = start + pd.Timedelta(days=cutoffs.horizon_days)
    history = events[events["event_at"] < start]
    after, _ = recommend.split(events[(events["event_at"] >= start) & (events["event_at"] < end)])
    known = set(history["customer_id"])
    return history, {c: p for c, p in recommend.next_orders(after).items() if c in known}


def _judged(model: recommend.Recommender, history: pd.DataFrame, truth: dict[str, set]) -> pd.DataFrame:
    purchases, feedback = recommend.split(history)
    return recommend.recommend(model, purchases, feedback, list(truth))


def _fingerprint(events: pd.DataFrame, catalog: pd.DataFrame, cutoffs: feats.Cutoffs) -> str:
    data = pd.util.hash_pandas_object(events.sort_values(list(events.columns)), index=False).sum()
    products = pd.util.hash_pandas_object(catalog.sort_values("product_id"), index=False).sum()
    spec = repr(sorted(recommend.params().items()))
    return hashlib.sha256(f"{data}|{products}|{cutoffs.dates}|{SPEC.margin}|{spec}".encode()).hexdigest()[:16]


def train(cfg: Settings, key: str = SPEC.key) -> Report:
    cutoffs, events, catalog = _read(cfg)
    history, truth = _holdout(cutoffs, events)
    if len(truth) < MIN_ROWS:
        why = f"too little history: {len(truth)} customers order after the holdout cutoff, at least {MIN_ROWS}"
        return Report(SPEC.key, "skipped", why, info={"cutoffs": cutoffs.dates})
    fingerprint = _fingerprint(events, catalog, cutoffs)
    purchases, feedback = recommend.split(history)
    model = recommend.fit(purchases, feedback, catalog)
    metrics = recommend.judge(_judged(model, history, truth), truth)
    for name, recs in recommend.baselines(model, purchases, list(truth)).items():
        metrics |= {f"baseline_{name.replace(' ', '_')}_{k}": v for k, v in recommend.judge(recs, truth).items()}
    with mlflow.start_run(experiment_id=registry.experiment_id(cfg, SPEC.model_name),
                          run_name=f"recommendations {cutoffs.dates['holdout']}") as run:  # fmt: skip
        mlflow.set_tags({"mlflow.source.git.commit": registry.git_commit(), "c360.family": SPEC.key,
                         "c360.fingerprint": fingerprint, "c360.target": cfg.target})  # fmt: skip
        mlflow.log_params({**recommend.params(), "cutoff_holdout": cutoffs.dates["holdout"],
                           "cutoff_score": cutoffs.dates["score"],
                           "horizon_days": cutoffs.horizon_days, "customers_judged": len(truth),
                           "events_before_holdout": len(history), "products": len(model.products),
                           "rules": len(model.rules), "data_fingerprint": fingerprint})  # fmt: skip
        mlflow.log_metrics(metrics)
        mlflow.log_figure(_figure(metrics), "plots/recall_at_10.png")
        plt.close("all")
        registry.log_table(model.rules.sort_values("lift", ascending=False).head(200), "tables/top_rules.json")
        uri = registry.log_object(model, history.head(20))
    info = {"cutoffs": cutoffs.dates, "fingerprint": fingerprint, "run_id": run.info.run_id,
            "algorithm": recommend.params()["algorithm"]}  # fmt: skip
    return register_or_unchanged(
        cfg, SPEC, (fingerprint, uri), metrics, primary=PRIMARY, info=info, higher_is_better=True
    )


def _figure(metrics: dict[str, float]):
    names = {"recommender": PRIMARY, "popularity": f"baseline_popularity_{PRIMARY}",
             "category popularity": f"baseline_category_popularity_{PRIMARY}"}  # fmt: skip
    fig, ax = plt.subplots(figsize=(5.5, 3.2), dpi=100)
    ax.barh(list(names), [metrics[m] for m in names.values()], color=["#1f77b4", "#ff7f0e", "#2ca02c"])
    ax.set(title="recall@10 on each customer's next order (out of time)", xlabel="recall@10")
    return fig


def evaluate(cfg: Settings, key: str, versions: list) -> list[float]:
    """Each registered version's recall@10 on today's holdout (the events read once for all)."""
    cutoffs, events, _ = _read(cfg)
    history, truth = _holdout(cutoffs, events)
    return [recommend.judge(_judged(registry.load_object(SPEC.model_name, v.version), history, truth), truth)[PRIMARY]
            for v in versions]  # fmt: skip


def score(cfg: Settings, key: str = SPEC.key) -> Report:
    champion = champion_to_score(cfg, SPEC)
    chosen = registry.load_object(SPEC.model_name, champion.version)
    cutoffs, events, catalog = _read(cfg)
    today = pd.Timestamp(cutoffs.dates["score"])
    history = events[events["event_at"] < today]
    purchases, feedback = recommend.split(history)
    rules = recommend.association_rules(purchases)
    model = recommend.fit(
        purchases, feedback, catalog, rule_weight=chosen.rule_weight, taste_weight=chosen.taste_weight, rules=rules
    )
    customers = sorted(history["customer_id"].unique())
    recs = recommend.recommend(model, purchases, feedback, customers)
    fixed = (SPEC.model_name, int(champion.version), dt.date.fromisoformat(cutoffs.dates["score"]),
             dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0))  # fmt: skip
    rec_rows = [(*r, *fixed) for r in recs.itertuples(index=False, name=None)]
    rule_rows = [(*r, *fixed) for r in rules[["antecedent", "consequent", "orders", "support", "confidence",
                                              "lift"]].itertuples(index=False, name=None)]  # fmt: skip
    with connect(cfg) as wh:
        for table, rows in (("ml.product_recommendations", rec_rows), ("ml.product_associations", rule_rows)):
            predictions.replace(wh, table, arrow_table(predictions.TABLES[table], rows))
    return Report(SPEC.key, "scored", f"{len(customers):,} customers given {recommend.TOP_K} products each by "
                  f"version {champion.version}'s blend, {len(rules):,} rules", int(champion.version),
                  int(champion.version), info={"rows": len(rec_rows)})  # fmt: skip
