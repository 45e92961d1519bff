"""The next-best-channel family's steps (ml/channel.py is the model): the same train -> gate -> score as the
other families (ml/pipeline.py), over the visits (dbt `ml.ml_channel_visits`).

- **train**: each prior strength is fitted on the visits before the train cutoff and judged on the horizon
  after it; the best one is fitted on the visits before the holdout cutoff and judged on the horizon after
  that (out of time): the share of customers who ordered from a visit whose first such visit came through the
  channel chosen for them, beside their most frequent channel.
- **gate**: challenger and champion choose for the same holdout customers; hit rate x 1.01.
- **score**: the champion's prior strength fitted on every visit before the score cutoff; a row per customer
  with a visit in ml.channel_recommendations.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import mlflow
import pandas as pd

from c360_core.settings import Settings
from c360_core.warehouse import arrow_table, connect
from ml import channel, predictions, registry
from ml import features as feats
from ml.catalog import SPECS
from ml.pipeline import MIN_ROWS, Report, champion_to_score, register_or_unchanged

SPEC = SPECS["channel"]
PRIMARY = "hit_rate"
VISITS = "select session_id, customer_id, traffic_channel, visited_at, converted from ml.ml_channel_visits"


def _read(cfg: Settings) -> tuple[feats.Cutoffs, pd.DataFrame]:
    with connect(cfg) as wh:
        cutoffs = feats.cutoffs(wh)
        visits = wh.fetch_frame(VISITS)
    visits["visited_at"] = pd.to_datetime(visits["visited_at"])
    visits["converted"] = visits["converted"].astype(bool)
    return cutoffs, visits.sort_values(["customer_id", "visited_at", "session_id"]).reset_index(drop=True)


def _around(cutoffs: feats.Cutoffs, visits: pd.DataFrame, role: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The visits before a cutoff's day ends, and those of the horizon after it."""
    at = pd.Timestamp(cutoffs.dates[role]) + pd.Timedelta(days=1)
    when = visits["visited_at"]
    return visits[when < at], visits[(when >= at) & (when < at + pd.Timedelta(days=cutoffs.horizon_days))]


def _too_little(cutoffs: feats.Cutoffs, visits: pd.DataFrame) -> str | None:
    early, _ = _around(cutoffs, visits, "train")
    _, after = _around(cutoffs, visits, "holdout")
    buyers = after.loc[after["converted"], "customer_id"].nunique()
    if buyers < MIN_ROWS or early.empty:
        return (f"too little history: {len(visits):,} visits of signed-in customers, {buyers} of them ordered from "
                f"a visit after the holdout cutoff (at least {MIN_ROWS} are needed)")  # fmt: skip
    return None


def _judge(model: channel.ChannelModel, before: pd.DataFrame, after: pd.DataFrame) -> float:
    chosen = model.best(before, before["visited_at"].max()).set_index("customer_id")["next_best_channel"]
    return channel.hits(chosen, after)


def train(cfg: Settings, key: str = SPEC.key) -> Report:
    cutoffs, visits = _read(cfg)
    why = _too_little(cutoffs, visits)
    if why:
        return Report(SPEC.key, "skipped", why, info={"cutoffs": cutoffs.dates})
    early, early_after = _around(cutoffs, visits, "train")
    before, after = _around(cutoffs, visits, "holdout")
    buyers = after.loc[after["converted"], "customer_id"].nunique()
    tried = {a: _judge(channel.fit(early, a), early, early_after) for a in channel.PRIORS}
    strength = max(channel.PRIORS, key=lambda a: (tried[a], -a))
    model = channel.fit(before, strength)
    metrics = {PRIMARY: _judge(model, before, after), "customers_judged": float(buyers),
               "baseline_most_frequent_hit_rate": channel.hits(channel.most_frequent(before), after),
               **{f"train_cutoff_hit_rate_prior_{a:g}": v for a, v in tried.items()}}  # fmt: skip
    data = pd.util.hash_pandas_object(visits, index=False).sum()
    fingerprint = hashlib.sha256(f"{data}|{cutoffs.dates}|{SPEC.margin}|{channel.PRIORS}".encode()).hexdigest()[:16]
    with mlflow.start_run(experiment_id=registry.experiment_id(cfg, SPEC.model_name),
                          run_name=f"channel {cutoffs.dates['holdout']}") as run:  # fmt: skip
        mlflow.set_tags({"mlflow.source.git.commit": registry.git_commit(), "c360.family": SPEC.key,
                         "c360.fingerprint": fingerprint, "c360.target": cfg.target})  # fmt: skip
        mlflow.log_params({"algorithm": "beta-binomial conversion per customer and channel",
                           "prior_strength": strength, "cutoff_train": cutoffs.dates["train"],
                           "cutoff_holdout": cutoffs.dates["holdout"], "cutoff_score": cutoffs.dates["score"],
                           "visits_before_holdout": len(before), "data_fingerprint": fingerprint})  # fmt: skip
        mlflow.log_metrics(metrics)
        registry.log_table(pd.DataFrame({"channel": list(model.rates), "visit_conversion": list(model.rates.values())}),
                           "tables/channel_rates.json")  # fmt: skip
        uri = registry.log_object(model, before.head(50))
    info = {"cutoffs": cutoffs.dates, "fingerprint": fingerprint, "run_id": run.info.run_id}
    return register_or_unchanged(cfg, SPEC, (fingerprint, uri), metrics, primary=PRIMARY, info=info,
                                 higher_is_better=True)  # fmt: skip


def evaluate(cfg: Settings, key: str, versions: list) -> list[float]:
    """Each version's hit rate on today's holdout horizon, its prior strength fitted on the same visits."""
    cutoffs, visits = _read(cfg)
    before, after = _around(cutoffs, visits, "holdout")
    strengths = [registry.load_object(SPEC.model_name, v.version).prior_strength for v in versions]
    return [_judge(channel.fit(before, a), before, after) for a in strengths]


def score(cfg: Settings, key: str = SPEC.key) -> Report:
    cutoffs, visits = _read(cfg)
    champion = champion_to_score(cfg, SPEC, unavailable=_too_little(cutoffs, visits))
    strength = registry.load_object(SPEC.model_name, champion.version).prior_strength
    at = pd.Timestamp(cutoffs.dates["score"]) + pd.Timedelta(days=1)
    before = visits[visits["visited_at"] < at]
    chosen = channel.fit(before, strength).best(before, at)
    fixed = (SPEC.model_name, int(champion.version), dt.date.fromisoformat(cutoffs.dates["score"]),
             dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0))  # fmt: skip
    rows = [(c, ch, round(float(p), 6), round(float(r), 6), int(v), why, *fixed)
            for c, ch, p, r, v, why in chosen.itertuples(index=False, name=None)]  # fmt: skip
    with connect(cfg) as wh:
        predictions.replace(wh, SPEC.table, arrow_table(predictions.TABLES[SPEC.table], rows))
    return Report(SPEC.key, "scored", f"{len(rows):,} customers given a next-best channel by version "
                  f"{champion.version} (prior strength {strength:g})", int(champion.version), int(champion.version),
                  info={"rows": len(rows)})  # fmt: skip
