"""Churn: will a buyer place no counted order in the next horizon (90 days, CONTRACT.md)?

Four candidates are compared by 5-fold stratified CV on the train cutoff; the best is calibrated
(isotonic, fitted on its out-of-fold scores) and judged on the holdout cutoff one horizon later,
beside two baselines: logistic regression on recency alone, and the BG/NBD probability of no
purchase in the horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from joblib import parallel_config
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from ml import plots
from ml.btyd import BGNBD
from ml.modeling import CV_FOLDS, SEED, Trained, btyd_inputs, matrix, scaled, stratified_sample

LABEL = "is_churned"
SVM_MAX_ROWS = 4000  # an RBF SVM is quadratic in rows: above this it is fitted on a stratified sample
REASONS_BLOCK_ROWS = 200_000  # rows per prediction call when explaining (a block's copies: ~70 MB at 40 features)
RISK_BANDS = ((0.6, "high"), (0.3, "medium"), (0.0, "low"))  # on the calibrated probability
# holdout rows the permutation importance shuffles, 3 times per feature (~120 predictions of them): 5,000 took
# 7.9 s of churn's 19.4 s training in make demo, and 3.9 s of CLV's. On half as many the leading features are the
# same (churn's first three, CLV's first two, on make demo's data); their spread grows by ~1.4x (1/sqrt of the rows).
IMPORTANCE_ROWS = 2_500


def candidates() -> dict[str, tuple[object, int | None]]:
    folds = StratifiedKFold(3, shuffle=True, random_state=SEED)
    # the grid's nine fits per fold two at a time, in threads (_threads): libsvm trains on one core
    svm = GridSearchCV(scaled(SVC(kernel="rbf", gamma="scale")), {"svc__C": [0.3, 1.0, 3.0]},
                       scoring="roc_auc", cv=folds, n_jobs=2)  # fmt: skip
    return {
        "logistic_regression": (scaled(LogisticRegression(C=1.0, max_iter=2000)), None),
        "decision_tree": (DecisionTreeClassifier(max_depth=5, min_samples_leaf=25, random_state=SEED), None),
        "svm_rbf": (svm, SVM_MAX_ROWS),
        "gradient_boosting": (
            HistGradientBoostingClassifier(learning_rate=0.05, max_iter=200, max_leaf_nodes=15,
                                           l2_regularization=1.0, early_stopping=False, random_state=SEED),
            None,
        ),
    }  # fmt: skip


def _threads():
    """Where a candidate asks for n_jobs (the SVM's grid search), threads, not joblib's default of processes:
    libsvm releases the GIL while it trains, and a new process would import scikit-learn again. The grid's fits
    took 7.5 s of make demo's churn training one at a time. Nothing else sets n_jobs, so the gradient boosting's
    own OpenMP threads never share the cores with these."""
    return parallel_config(backend="threading")


def _scores(model, x: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(x)[:, 1] if hasattr(model, "predict_proba") else model.decision_function(x)


def compare(train: pd.DataFrame, features: list[str]) -> tuple[str, dict[str, dict[str, float]], dict]:
    """5-fold stratified CV ROC AUC of every candidate; returns the winner, the table and OOF scores."""
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=SEED)
    table, oof = {}, {}
    for name, (estimator, max_rows) in candidates().items():
        rows = stratified_sample(train, LABEL, max_rows) if max_rows else train
        x, y = matrix(rows, features), rows[LABEL].to_numpy(dtype=int)
        method = "predict_proba" if name != "svm_rbf" else "decision_function"
        with _threads():
            scores = cross_val_predict(estimator, x, y, cv=folds, method=method)
        scores = scores[:, 1] if scores.ndim == 2 else scores
        per_fold = [roc_auc_score(y[val], scores[val]) for _, val in folds.split(x, y)]
        table[name] = {"roc_auc_mean": float(np.mean(per_fold)), "roc_auc_std": float(np.std(per_fold)),
                       "rows": len(rows)}  # fmt: skip
        oof[name] = (rows.index, scores)
    best = max(table, key=lambda n: table[n]["roc_auc_mean"])
    return best, table, oof


def metrics(y: np.ndarray, probability: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = (probability >= threshold).astype(int)
    return {
        "roc_auc": float(roc_auc_score(y, probability)),
        "pr_auc": float(average_precision_score(y, probability)),
        "f1": float(f1_score(y, predicted, zero_division=0)),
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted, zero_division=0)),
        "accuracy": float(accuracy_score(y, predicted)),
        "brier": float(brier_score_loss(y, np.clip(probability, 0, 1))),
    }


def best_threshold(y: np.ndarray, probability: np.ndarray) -> float:
    """The probability that maximises F1 on the training cutoff's out-of-fold predictions."""
    grid = np.unique(np.round(probability, 3))
    f1s = [f1_score(y, (probability >= t).astype(int), zero_division=0) for t in grid]
    return float(grid[int(np.argmax(f1s))])


def baselines(train: pd.DataFrame, holdout: pd.DataFrame, horizon: int) -> dict[str, np.ndarray]:
    """Holdout scores of the two baselines, each fitted on the train cutoff only."""
    recency = LogisticRegression().fit(train[["recency_days"]], train[LABEL].astype(int))
    bgnbd = BGNBD.fit(*btyd_inputs(train))
    return {
        "recency_logistic": recency.predict_proba(holdout[["recency_days"]])[:, 1],
        "bgnbd": bgnbd.p_no_purchase(horizon, *btyd_inputs(holdout)),
    }


def train(train_rows: pd.DataFrame, holdout: pd.DataFrame, features: list[str], horizon: int) -> Trained:
    best, table, oof = compare(train_rows, features)
    estimator, _ = candidates()[best]
    rows = train_rows.loc[oof[best][0]]
    x, y = matrix(rows, features), rows[LABEL].to_numpy(dtype=int)
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=SEED)
    with _threads():
        model = CalibratedClassifierCV(clone(estimator), method="isotonic", cv=folds, ensemble=False).fit(x, y)
    calibrated_oof = IsotonicRegression(out_of_bounds="clip").fit(oof[best][1], y).predict(oof[best][1])
    threshold = best_threshold(y, calibrated_oof)

    y_hold = holdout[LABEL].to_numpy(dtype=int)
    probability = model.predict_proba(matrix(holdout, features))[:, 1]
    result = metrics(y_hold, probability, threshold)
    scores = {"champion candidate": probability}
    for name, score in baselines(train_rows, holdout, horizon).items():
        scores[name] = score
        result.update({f"baseline_{name}_{k}": v for k, v in metrics(y_hold, score, 0.5).items()
                       if k in ("roc_auc", "pr_auc", "brier")})  # fmt: skip
    for name, row in table.items():
        result[f"cv_{name}_roc_auc_mean"] = row["roc_auc_mean"]
        result[f"cv_{name}_roc_auc_std"] = row["roc_auc_std"]
    result["holdout_churn_rate"] = float(y_hold.mean())
    importance = importance_table(model, holdout, features, "roc_auc")
    return Trained(
        model=model,
        features=features,
        primary_metric="roc_auc",
        higher_is_better=True,
        metrics=result,
        params={"algorithm": best, "calibration": "isotonic", "threshold": threshold, "cv_folds": CV_FOLDS,
                "candidates": ",".join(table), "train_rows": len(rows), "holdout_rows": len(holdout)},
        figures={
            "roc.png": plots.roc(y_hold, scores),
            "precision_recall.png": plots.precision_recall(y_hold, scores),
            "calibration.png": plots.calibration(y_hold, probability),
            "lift.png": plots.lift(y_hold, scores),
            "confusion_matrix.png": plots.confusion(y_hold, (probability >= threshold).astype(int)),
            "feature_importance.png": plots.importance(importance),
        },
        tables={"cv_candidates.json": pd.DataFrame(table).T.reset_index(names="candidate"),
                "feature_importance.json": importance},
    )  # fmt: skip


def importance_table(model, frame: pd.DataFrame, features: list[str], scoring: str, target: str = LABEL):
    sample = frame.sample(n=min(len(frame), IMPORTANCE_ROWS), random_state=SEED)
    found = permutation_importance(model, matrix(sample, features), sample[target].astype("float64"),
                                   scoring=scoring, n_repeats=3, random_state=SEED)  # fmt: skip
    table = pd.DataFrame({"feature": features, "importance": found.importances_mean, "std": found.importances_std})
    return table.sort_values("importance", ascending=False).reset_index(drop=True)


def evaluate(model, holdout: pd.DataFrame, features: list[str]) -> float:
    """The gate's figure: ROC AUC on the holdout."""
    return float(roc_auc_score(holdout[LABEL].astype(int), model.predict_proba(matrix(holdout, features))[:, 1]))


def risk_band(probability: np.ndarray) -> np.ndarray:
    bands = np.full(len(probability), "low", dtype=object)
    for floor, band in reversed(RISK_BANDS):
        bands[probability >= floor] = band
    return bands


def reasons(model, frame: pd.DataFrame, features: list[str], reference: pd.Series, top: int = 3) -> list[list[str]]:
    """The `top` features that raise each customer's risk most (occlusion on the uncalibrated model).

    A feature's contribution is how much the probability drops when that one value is replaced by
    today's median; the isotonic step function would hide small moves, so the base model is used.
    """
    base = model.calibrated_classifiers_[0].estimator
    x = matrix(frame, features)
    contributions = np.empty((len(x), len(features)))
    # the rows and each of their occluded copies go to the model in one call per block: one prediction call
    # has a fixed cost (input checks, a thread pool) that dominates for one customer (41 calls: ~120 ms)
    values = x.to_numpy(dtype="float64")
    medians = reference[features].to_numpy(dtype="float64")
    block = max(1, REASONS_BLOCK_ROWS // (len(features) + 1))
    for start in range(0, len(x), block):
        rows = values[start : start + block]
        n = len(rows)
        variants = np.tile(rows, (len(features) + 1, 1))  # copy 0 as it is, copy j + 1 with feature j occluded
        for j in range(len(features)):
            variants[(j + 1) * n : (j + 2) * n, j] = medians[j]
        scores = _scores(base, pd.DataFrame(variants, columns=x.columns)).reshape(len(features) + 1, n)
        contributions[start : start + n] = (scores[0] - scores[1:]).T
    # a missing value explains nothing to a reader; rounding makes ties (equal features) break the
    # same way on every run, by the features' order
    contributions = np.where(np.isnan(values), -np.inf, np.round(contributions, 6))
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :top]
    return [
        [
            f"{features[j]}={_fmt(values[i, j])} (+{contributions[i, j]:.2f})"
            for j in order[i]
            if contributions[i, j] > 0
        ]
        for i in range(len(x))
    ]


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.2f}"
