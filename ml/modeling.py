"""What every model family shares: the training result, preprocessing, and BG/NBD inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 0
CV_FOLDS = 5


@dataclass
class Trained:
    """A family's fitted champion candidate with everything MLflow logs about it."""

    model: Any  # a scikit-learn estimator over `features`, the object MLflow stores
    features: list[str]
    primary_metric: str  # the holdout metric the champion gate compares
    higher_is_better: bool
    metrics: dict[str, float]  # holdout metrics of the model, and of the baselines (baseline_*)
    params: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)  # file name -> matplotlib figure
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # file name -> table to log


def scaled(estimator) -> Pipeline:
    """Median imputation with missing-value indicators, then scaling: for the linear models and SVMs.

    Imputation fills the odd missing value of a feature that has data (an age the CRM lacks); the
    indicator tells the model it was missing. Features without data are not here at all.
    """
    return make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler(), estimator)


def matrix(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    return frame[features].astype("float64")


def btyd_inputs(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x repeat purchases, t_x, T) in days from each buyer's first order in the lookback window."""
    first = frame["first_order_days_ago"].to_numpy(dtype="float64")
    last = frame["recency_days"].to_numpy(dtype="float64")
    x = frame["frequency_orders"].to_numpy(dtype="float64") - 1
    age = first + 1.0  # the cutoff is the end of its day
    return x, first - last, age


def stratified_sample(frame: pd.DataFrame, label: str, rows: int) -> pd.DataFrame:
    """At most `rows` rows, keeping the label's proportions (for the models that scale badly)."""
    if len(frame) <= rows:
        return frame
    share = rows / len(frame)
    return frame.groupby(label, group_keys=False).sample(frac=share, random_state=SEED).sort_index()
