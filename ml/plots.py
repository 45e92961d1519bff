"""The PNG plots each training run logs to MLflow (and docs/ml.md embeds)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no screen on these machines; every figure is written to a file

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import ConfusionMatrixDisplay, precision_recall_curve, roc_curve


def _figure(title: str, size=(5.5, 4.2)):
    fig, ax = plt.subplots(figsize=size, dpi=100)
    ax.set_title(title)
    return fig, ax


def roc(y: np.ndarray, scores: dict[str, np.ndarray]):
    fig, ax = _figure("ROC, out-of-time holdout")
    for name, score in scores.items():
        fpr, tpr, _ = roc_curve(y, score)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set(xlabel="false positive rate", ylabel="true positive rate")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def precision_recall(y: np.ndarray, scores: dict[str, np.ndarray]):
    fig, ax = _figure("Precision-recall, out-of-time holdout")
    for name, score in scores.items():
        precision, recall, _ = precision_recall_curve(y, score)
        ax.plot(recall, precision, label=name)
    ax.axhline(float(np.mean(y)), color="grey", linestyle=":", label="base rate")
    ax.set(xlabel="recall", ylabel="precision")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def calibration(y: np.ndarray, probability: np.ndarray):
    fig, ax = _figure("Calibration, out-of-time holdout")
    observed, predicted = calibration_curve(y, probability, n_bins=10, strategy="quantile")
    ax.plot(predicted, observed, marker="o", label="champion candidate")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    ax.set(xlabel="predicted churn probability", ylabel="observed churn rate")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def lift(y: np.ndarray, scores: dict[str, np.ndarray]):
    """Lift by decile of score: each decile's churn rate over the holdout's (1 = no better than random)."""
    fig, ax = _figure("Lift by score decile, out-of-time holdout")
    base = float(np.mean(y))
    deciles = np.arange(1, 11)
    for name, score in scores.items():
        order = np.argsort(-score, kind="stable")
        rates = [float(np.mean(part)) / base for part in np.array_split(y[order], 10)]
        ax.plot(deciles, rates, marker="o", label=name)
    ax.axhline(1.0, color="grey", linestyle=":", label="random")
    ax.set(xlabel="score decile (1 = highest risk)", ylabel="lift", xticks=deciles)
    ax.legend(loc="upper right", fontsize=8)
    return fig


def confusion(y: np.ndarray, predicted: np.ndarray):
    fig, ax = _figure("Confusion matrix at the chosen threshold")
    ConfusionMatrixDisplay.from_predictions(y, predicted, display_labels=["stays", "churns"], ax=ax, colorbar=False)
    return fig


def importance(table: pd.DataFrame):
    top = table.head(15).iloc[::-1]
    fig, ax = _figure("Permutation importance, holdout", size=(6, 4.8))
    ax.barh(top["feature"], top["importance"], xerr=top["std"], color="tab:blue")
    ax.set(xlabel="drop in the primary metric when shuffled")
    fig.tight_layout()
    return fig


def predicted_vs_actual(actual: np.ndarray, predicted: np.ndarray, horizon: int):
    fig, ax = _figure(f"CLV: predicted vs actual revenue, next {horizon} days")
    ax.scatter(predicted, actual, s=4, alpha=0.3)
    top = float(max(np.max(actual), np.max(predicted), 1.0))
    ax.plot([0, top], [0, top], color="grey", linestyle=":")
    ax.set(xlabel="predicted", ylabel="actual", xscale="symlog", yscale="symlog")
    return fig


def silhouettes(scores: dict[int, float], chosen: int):
    fig, ax = _figure("Silhouette by k")
    ks = sorted(scores)
    ax.plot(ks, [scores[k] for k in ks], marker="o")
    ax.axvline(chosen, color="tab:red", linestyle=":", label=f"chosen k = {chosen}")
    ax.set(xlabel="k", ylabel="silhouette score")
    ax.legend(fontsize=8)
    return fig


def profiles(table: pd.DataFrame, features: list[str]):
    """Each cluster's feature means as z-scores against all customers (the naming rule reads these)."""
    z = table.set_index("cluster_name")[[f"z_{f}" for f in features]]
    fig, ax = _figure("Cluster profiles (z-score of the mean)", size=(7, 0.6 * len(z) + 2))
    image = ax.imshow(z.to_numpy(), cmap="RdBu_r", vmin=-2, vmax=2, aspect="auto")
    ax.set_xticks(range(len(features)), features, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(z)), z.index, fontsize=8)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    return fig
