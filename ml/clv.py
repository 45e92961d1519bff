"""Customer lifetime value: a buyer's revenue from counted orders in the next horizon (90 days).

Ridge, lasso and gradient boosting (Poisson loss: revenue is non-negative and skewed) are compared
by 5-fold CV mean absolute error on the train cutoff and judged on the holdout cutoff, beside the
naive baseline (past spend rate x horizon) and BG/NBD + Gamma-Gamma.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Lasso, Ridge
from sklearn.metrics import mean_absolute_error, root_mean_squared_error
from sklearn.model_selection import KFold, cross_val_predict

from ml import plots
from ml.btyd import BGNBD, GammaGamma
from ml.churn import importance_table
from ml.modeling import CV_FOLDS, SEED, Trained, btyd_inputs, matrix, scaled

LABEL = "future_revenue"


def candidates() -> dict[str, object]:
    return {
        "ridge": scaled(Ridge(alpha=1.0)),
        "lasso": scaled(Lasso(alpha=1.0, max_iter=5000)),
        "gradient_boosting": HistGradientBoostingRegressor(loss="poisson", learning_rate=0.05, max_iter=200,
                                                           max_leaf_nodes=15, l2_regularization=1.0,
                                                           early_stopping=False, random_state=SEED),
    }  # fmt: skip


def metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, Spearman rank correlation, and the top-decile lift: the share of all future revenue
    earned by the 10% of customers predicted highest (0.10 would be no better than chance)."""
    top = np.argsort(-predicted, kind="stable")[: max(1, len(predicted) // 10)]
    total = float(actual.sum())
    return {
        "mae": float(mean_absolute_error(actual, predicted)),
        "rmse": float(root_mean_squared_error(actual, predicted)),
        "spearman": float(spearmanr(actual, predicted).statistic),
        "top_decile_share": float(actual[top].sum() / total) if total > 0 else 0.0,
        "predicted_total_ratio": float(predicted.sum() / total) if total > 0 else 0.0,
    }


def baselines(train: pd.DataFrame, holdout: pd.DataFrame, horizon: int, lookback: int) -> dict[str, np.ndarray]:
    """The naive run rate, and BG/NBD + Gamma-Gamma fitted on the train cutoff's buyers."""
    bgnbd = BGNBD.fit(*btyd_inputs(train))
    spend = GammaGamma.fit(train["frequency_orders"], train["avg_order_value"])
    purchases = bgnbd.expected_purchases(horizon, *btyd_inputs(holdout))
    value = spend.expected_spend(holdout["frequency_orders"], holdout["avg_order_value"])
    return {
        "naive_run_rate": holdout["monetary_value"].to_numpy(dtype="float64") / max(lookback, 1) * horizon,
        "bgnbd_gamma_gamma": purchases * value,
    }


def train(train_rows: pd.DataFrame, holdout: pd.DataFrame, features: list[str], horizon: int, lookback: int):
    x, y = matrix(train_rows, features), train_rows[LABEL].to_numpy(dtype="float64")
    folds = KFold(CV_FOLDS, shuffle=True, random_state=SEED)
    table = {}
    for name, estimator in candidates().items():
        predicted = cross_val_predict(estimator, x, y, cv=folds)
        per_fold = [mean_absolute_error(y[val], predicted[val]) for _, val in folds.split(x)]
        table[name] = {"mae_mean": float(np.mean(per_fold)), "mae_std": float(np.std(per_fold))}
    best = min(table, key=lambda n: table[n]["mae_mean"])
    model = clone(candidates()[best]).fit(x, y)

    actual = holdout[LABEL].to_numpy(dtype="float64")
    predicted = np.clip(model.predict(matrix(holdout, features)), 0, None)
    result = metrics(actual, predicted)
    for name, baseline in baselines(train_rows, holdout, horizon, lookback).items():
        result.update({f"baseline_{name}_{k}": v for k, v in metrics(actual, baseline).items()})
    for name, row in table.items():
        result[f"cv_{name}_mae_mean"] = row["mae_mean"]
        result[f"cv_{name}_mae_std"] = row["mae_std"]
    importance = importance_table(model, holdout, features, "neg_mean_absolute_error", target=LABEL)
    return Trained(
        model=model,
        features=features,
        primary_metric="mae",
        higher_is_better=False,
        metrics=result,
        params={"algorithm": best, "horizon_days": horizon, "cv_folds": CV_FOLDS, "candidates": ",".join(table),
                "train_rows": len(train_rows), "holdout_rows": len(holdout)},
        figures={"predicted_vs_actual.png": plots.predicted_vs_actual(actual, predicted, horizon),
                 "feature_importance.png": plots.importance(importance)},
        tables={"cv_candidates.json": pd.DataFrame(table).T.reset_index(names="candidate"),
                "feature_importance.json": importance},
    )  # fmt: skip


def predict(model, frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    return np.clip(model.predict(matrix(frame, features)), 0, None)


def evaluate(model, holdout: pd.DataFrame, features: list[str]) -> float:
    """The gate's figure: MAE on the holdout (lower is better)."""
    return float(mean_absolute_error(holdout[LABEL].astype("float64"), predict(model, holdout, features)))
