"""The ML steps as assets in the `ml` group, per model family (docs/ml.md):

    ml/customer_features (dbt) -> ml/<family>_training -> ml/<family>_champion -> <predictions table>

The prediction tables are dbt sources of `marts/customer_360`, so Dagster runs the dbt models
before and after them in one run. Every step first checks the blocking gate: while a blocking
contract check fails on a dataset below the features, nothing trains or scores.
"""

import dagster as dg

from c360_core.settings import settings
from ml.catalog import SPECS
from orchestration.defs.dbt.project import manifest
from orchestration.defs.quality.gate import blocked_models

GROUP = "ml"
PRODUCTS = dg.AssetKey(["marts", "products"])  # the recommender's catalogue, besides its events
SHOWN = {  # the metrics each asset shows in the UI, besides the champion version
    "churn": ["roc_auc", "pr_auc", "f1", "brier", "baseline_recency_logistic_roc_auc", "baseline_bgnbd_roc_auc"],
    "clv": ["mae", "rmse", "spearman", "top_decile_share", "baseline_naive_run_rate_mae",
            "baseline_bgnbd_gamma_gamma_mae"],
    "clusters": ["silhouette"],
    "recommendations": ["recall_at_10", "precision_at_10", "ndcg_at_10", "baseline_popularity_recall_at_10",
                        "baseline_category_popularity_recall_at_10"],
    "channel": ["hit_rate", "baseline_most_frequent_hit_rate", "customers_judged"],
    "anomalies": ["precision_at_k", "recall", "flagged_precision", "baseline_amount_zscore_precision_at_k",
                  "baseline_amount_zscore_recall", "flagged"],
    "revenue_forecast": ["mape", "mape_30d", "coverage_80", "coverage_95", "baseline_naive_mape",
                         "baseline_seasonal_naive_mape"],
    "demand_forecast": ["mase", "coverage_80", "coverage_95", "baseline_naive_mase", "baseline_seasonal_naive_mase",
                        "categories_beating_seasonal_naive", "categories"],
}  # fmt: skip


def training_key(family: str) -> dg.AssetKey:
    return dg.AssetKey(["ml", f"{family}_training"])


def champion_key(family: str) -> dg.AssetKey:
    return dg.AssetKey(["ml", f"{family}_champion"])


def predictions_key(family: str) -> dg.AssetKey:
    return dg.AssetKey(SPECS[family].table.split("."))


def ensure_not_blocked(context: dg.AssetExecutionContext) -> None:
    """Fail before reading anything while a blocking check holds back the feature models."""
    blocked = blocked_models(settings(), manifest())
    inputs = {model for spec in SPECS.values() for model in spec.reads}
    reasons = sorted({why for model, why in blocked.items() if model in inputs})
    if reasons:
        raise dg.Failure(description=f"not run: the ML features are blocked ({'; '.join(reasons)})",
                         allow_retries=False)  # fmt: skip


def _metadata(report, shown: list[str]) -> dict:
    metadata = {"status": report.status, "detail": report.detail}
    if report.version is not None:
        metadata["model_version"] = report.version
    if report.champion_version is not None:
        metadata["champion_version"] = report.champion_version
    metadata.update({name: round(report.metrics[name], 4) for name in shown if name in report.metrics})
    for name in ("groups_used", "groups_absent"):
        if name in report.info:
            metadata[f"feature_{name}"] = ", ".join(report.info[name]) or "none"
    if "dropped" in report.info:
        metadata["features_dropped"] = dg.MetadataValue.json(report.info["dropped"])
    if "run_id" in report.info:
        metadata["mlflow_run_id"] = report.info["run_id"]
    if "rows" in report.info:
        metadata["dagster/row_count"] = report.info["rows"]
    return metadata


def _assets(family: str) -> list[dg.AssetsDefinition]:
    spec = SPECS[family]
    deps = [dg.AssetKey(["ml", name]) for name in spec.reads] + ([PRODUCTS] if spec.inputs == "events" else [])
    model = SPECS[family].model_name
    library = "statsmodels" if spec.inputs == "series" else "scikit-learn"

    @dg.asset(key=training_key(family), deps=deps, group_name=GROUP, kinds={"mlflow", library},
              description=f"Train {model} candidates, judge them out of time (on the train and holdout cutoffs, or "
              "on rolling-origin folds), log to MLflow and register a new version as `challenger` (nothing when "
              "the data is unchanged).")  # fmt: skip
    def training(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        ensure_not_blocked(context)
        from ml import pipeline  # scikit-learn and MLflow load only when a model step runs

        report = pipeline.train(settings(), family)
        (context.log.warning if report.status == "skipped" else context.log.info)(f"{model}: {report.detail}")
        return dg.MaterializeResult(metadata=_metadata(report, SHOWN[family]))

    @dg.asset(key=champion_key(family), deps=[training_key(family)], group_name=GROUP, kinds={"mlflow"},
              description=f"The champion gate of {model}: the challenger takes the `champion` alias only if "
              "it beats the champion on the same holdout by the family's margin.")  # fmt: skip
    def champion(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        ensure_not_blocked(context)
        from ml import pipeline

        report = pipeline.gate(settings(), family)
        context.log.info(f"{model}: {report.detail}")
        metadata = _metadata(report, [])
        metadata.update({f"{k}_metric": round(v, 4) for k, v in report.metrics.items()})
        return dg.MaterializeResult(metadata=metadata)

    @dg.asset(key=predictions_key(family), deps=[champion_key(family), *deps], group_name=GROUP,
              kinds={"mlflow", "table"},
              description=f"Predictions of the {model} champion for today's customers (table "
              f"{spec.table}), each row with its model version.")  # fmt: skip
    def predictions(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        ensure_not_blocked(context)
        from ml import pipeline

        try:
            report = pipeline.score(settings(), family)
        except pipeline.NothingToScore as err:  # the data cannot train this family: not a failure of the run
            context.log.warning(str(err))
            return dg.MaterializeResult(metadata={"status": "not scored", "detail": str(err)})
        except pipeline.MLError as err:
            raise dg.Failure(description=str(err), allow_retries=False) from err
        context.log.info(f"{model}: {report.detail}")
        return dg.MaterializeResult(metadata=_metadata(report, []))

    return [training, champion, predictions]


ml_assets = [asset for family in SPECS for asset in _assets(family)]
TRAINING = [training_key(f) for f in SPECS] + [champion_key(f) for f in SPECS]
SCORING = [predictions_key(f) for f in SPECS]
