"""The ML stages of `make bench` and the figures of docs/ml.md (`make ml-report`).

Stages run as `c360 materialize` of one part of the ML graph each, in their own process, on a
warehouse whose models are built: features, training + gate per family, scoring, customer_360.
The report reads each champion's run from MLflow and copies the plots docs/ml.md embeds.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from bench.measure import run_stage
from ml.catalog import SPECS

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images" / "ml"
FAMILIES = tuple(SPECS)
PREDICTIONS = " or ".join(f"key:{SPECS[f].table.replace('.', '/')}" for f in FAMILIES)
STAGES = [
    ("ml: features (dbt)", "group:ml and kind:dbt"),
    *[(f"ml: train + gate {f}", f"key:ml/{f}_training or key:ml/{f}_champion") for f in FAMILIES],
    (f"ml: score ({len(FAMILIES)} families)", PREDICTIONS),
    ("ml: customer_360 with predictions", "key:marts/customer_360"),
]
# the figures docs/ml.md reports, per family: (metric, label)
SHOWN = {
    "churn": ["roc_auc", "pr_auc", "accuracy", "f1", "precision", "recall", "brier",
              "baseline_recency_logistic_roc_auc", "baseline_bgnbd_roc_auc", "holdout_churn_rate"],
    "clv": ["mae", "rmse", "spearman", "top_decile_share", "predicted_total_ratio", "baseline_naive_run_rate_mae",
            "baseline_naive_run_rate_rmse", "baseline_naive_run_rate_top_decile_share",
            "baseline_naive_run_rate_predicted_total_ratio", "baseline_bgnbd_gamma_gamma_predicted_total_ratio",
            "baseline_naive_run_rate_spearman", "baseline_bgnbd_gamma_gamma_mae", "baseline_bgnbd_gamma_gamma_rmse",
            "baseline_bgnbd_gamma_gamma_spearman", "baseline_bgnbd_gamma_gamma_top_decile_share"],
    "clusters": ["silhouette"],
    "recommendations": ["recall_at_10", "precision_at_10", "ndcg_at_10", "baseline_popularity_recall_at_10",
                        "baseline_popularity_precision_at_10", "baseline_popularity_ndcg_at_10",
                        "baseline_category_popularity_recall_at_10", "baseline_category_popularity_precision_at_10",
                        "baseline_category_popularity_ndcg_at_10"],
    "channel": ["hit_rate", "baseline_most_frequent_hit_rate", "customers_judged", "truth_agreement",
                "baseline_most_frequent_truth_agreement"],
    "anomalies": ["precision_at_k", "recall", "flagged_precision", "planted", "flagged", "orders_scored",
                  "baseline_amount_zscore_precision_at_k", "baseline_amount_zscore_recall",
                  "baseline_amount_zscore_flagged_precision", "baseline_amount_zscore_flagged"],
    "revenue_forecast": ["mape", "mape_30d", "coverage_80", "coverage_95", "baseline_naive_mape",
                         "baseline_naive_mape_30d", "baseline_seasonal_naive_mape", "baseline_seasonal_naive_mape_30d"],
    "demand_forecast": ["mase", "coverage_80", "coverage_95", "baseline_naive_mase", "baseline_seasonal_naive_mase",
                        "categories", "categories_beating_seasonal_naive"],
}  # fmt: skip
PLOTS = {"churn": ["roc.png", "precision_recall.png", "calibration.png", "feature_importance.png"],
         "clv": ["predicted_vs_actual.png", "feature_importance.png"],
         "clusters": ["silhouette_by_k.png", "cluster_profiles.png"], "recommendations": ["recall_at_10.png"],
         "anomalies": ["anomaly_scores.png"], "channel": [],
         "revenue_forecast": ["revenue_forecast.png"], "demand_forecast": ["demand_forecast.png"]}  # fmt: skip


def bench_ml(customers: int, days: int, env: dict[str, str]) -> list[dict]:
    results = []
    for stage, select in STAGES:
        m = run_stage([sys.executable, "-m", "c360_cli.main", "materialize", "--select", select], env)
        results.append({"stage": stage, "customers": customers, "days": days, "seconds": m.seconds,
                        "peak_rss_mib": m.peak_rss_mib})  # fmt: skip
        print(f"  {stage}: {m.seconds} s, peak {m.peak_rss_mib} MiB", flush=True)
    return results


def channel_truth(cfg) -> dict[str, float]:
    """The published next-best channels' agreement with the simulator's planted responsive channel, for the
    customers with 3 or more visits, beside their most frequent channel (the issue's acceptance figure)."""
    import pandas as pd  # noqa: PLC0415

    from c360_core.warehouse import connect  # noqa: PLC0415
    from ml import channel  # noqa: PLC0415

    with connect(cfg) as wh:
        chosen = wh.fetch_frame("select customer_id, next_best_channel from ml.channel_recommendations")
        visits = wh.fetch_frame("select customer_id, traffic_channel, visited_at from ml.ml_channel_visits "
                                f"where visited_at < cast('{cfg.as_of_date}' as date) + 1")  # fmt: skip
    truth = pd.read_csv(cfg.landing / "_manifest" / "customers_truth.csv").set_index("customer_id")
    counts = visits.groupby("customer_id").size()
    judged = counts[counts >= 3].index
    planted = truth.loc[judged, "responsive_channel"]
    model = (chosen.set_index("customer_id").loc[judged, "next_best_channel"] == planted).mean()
    baseline = (channel.most_frequent(visits).loc[judged] == planted).mean()
    return {
        "truth_agreement": float(model),
        "customers_with_3_visits": float(len(judged)),
        "baseline_most_frequent_truth_agreement": float(baseline),
    }


def expecting_parents(cfg) -> dict[str, float]:
    """The Expecting Parents audience against the simulator's truth, as of the as-of day's eve: recall over the
    parents expecting then who browsed in the 180 days before (all; those expecting for under 120 days; those
    with a product interest since their pregnancy began, the only ones behaviour can show), and precision
    against every parent expecting or with a newborn under six months."""
    import pandas as pd  # noqa: PLC0415

    from c360_core.warehouse import connect  # noqa: PLC0415

    day = pd.Timestamp(cfg.as_of_date) - pd.Timedelta(days=1)
    start = f"cast('{(day - pd.Timedelta(days=179)).date()}' as timestamp)"
    end = f"cast('{(day + pd.Timedelta(days=1)).date()}' as timestamp)"
    with connect(cfg) as wh:
        found = set(wh.fetch_frame("select customer_id from marts.customer_segments "
                                   "where segment_name = 'Expecting Parents'")["customer_id"])  # fmt: skip
        browsed = set(
            wh.fetch_frame(
                "select distinct entity_id as customer_id from marts.product_views "
                f"where activity_ts >= {start} and activity_ts < {end}"
            )["customer_id"]
        )
        interest = wh.fetch_frame(
            "select customer_id, max(interest_at) as last_at from ("
            "select entity_id as customer_id, activity_ts as interest_at from marts.product_views union all "
            "select entity_id, activity_ts from marts.favorites union all "
            "select entity_id, activity_ts from marts.cart_adds union all "
            "select customer_id, ordered_at from marts.orders_enriched) as interest "
            f"where interest_at >= {start} and interest_at < {end} group by customer_id")  # fmt: skip
    truth = pd.read_csv(cfg.landing / "_manifest" / "customers_truth.csv", dtype=str)
    since = pd.to_datetime(truth["expecting_since"])
    born = pd.to_datetime(truth["child_born_on"])
    expecting = truth[(since <= day) & (born.isna() | (born > day))]
    in_phase = set(truth.loc[(since <= day) & (born.isna() | (born + pd.Timedelta(days=180) > day)), "customer_id"])
    now = set(expecting["customer_id"]) & browsed
    recent = set(expecting.loc[(day - since[expecting.index]).dt.days < 120, "customer_id"]) & browsed
    began = interest["customer_id"].map(dict(zip(truth["customer_id"], since, strict=True)))
    shown = now & set(interest.loc[pd.to_datetime(interest["last_at"]) >= began, "customer_id"])
    return {
        "expecting_and_browsed": float(len(now)),
        "recall": len(found & now) / max(len(now), 1),
        "recall_expecting_under_120_days": len(found & recent) / max(len(recent), 1),
        "interest_since_expecting": float(len(shown)),
        "recall_interest_since_expecting": len(found & shown) / max(len(shown), 1),
        "precision_in_phase": len(found & in_phase) / max(len(found), 1),
        "audience": float(len(found)),
    }


def report(env: dict[str, str], customers: int, days: int, images: Path = IMAGES) -> dict:
    """Each champion's figures, parameters and cluster profiles, from the MLflow store of `env`."""
    os.environ.update(env)
    from c360_core.settings import settings  # noqa: PLC0415  (reads the environment just set)
    from ml import registry  # noqa: PLC0415

    mlc = registry.client(settings())
    out: dict = {"customers": customers, "days": days, "families": {}}
    images.mkdir(parents=True, exist_ok=True)
    for family in FAMILIES:
        name = SPECS[family].model_name
        version = mlc.get_model_version_by_alias(name, registry.CHAMPION)
        run = mlc.get_run(version.run_id)
        metrics = run.data.metrics
        found = {
            "version": int(version.version), "algorithm": run.data.params.get("algorithm"), "params": run.data.params,
            "metrics": {k: metrics[k] for k in SHOWN[family] if k in metrics},
            "cv": {k: v for k, v in metrics.items() if k.startswith(("cv_", "silhouette_k"))},
        }  # fmt: skip
        for plot in PLOTS[family]:
            local = mlc.download_artifacts(run.info.run_id, f"plots/{plot}", str(images / "_download"))
            shutil.copy(local, images / f"{family}_{plot}")
        if family == "clusters":
            path = mlc.download_artifacts(run.info.run_id, "tables/cluster_profiles.json", str(images / "_download"))
            found["profiles"] = json.loads(Path(path).read_text())
        if family == "channel":
            found["metrics"] |= channel_truth(settings())
        out["families"][family] = found
    out["expecting_parents"] = expecting_parents(settings())
    shutil.rmtree(images / "_download", ignore_errors=True)
    return out
