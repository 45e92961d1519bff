"""Revenue and demand forecasts (docs/ml.md, Forecasts): statsmodels' ETS models for the point forecast,
intervals from the model's own past errors, judged on a rolling origin against naive and seasonal naive.

- **Revenue**: the counted orders' revenue per day, 90 days ahead (the first 30 are the 30-day forecast),
  an ETS model with a weekly season (a shop's strongest daily pattern).
- **Demand**: units per product category per week, 8 weeks ahead, one ETS model per category without a
  season (a year of weeks holds no second yearly cycle).

**Intervals.** ETS's own intervals treat the level as a random walk and widen with the square root of the
horizon: over 90 days on a year of simulated revenue its 80% interval held 97.6% of the actuals. So the
bounds come from the forecaster's own errors instead: the forecasts made at the `CALIBRATION` latest
origins whose whole horizon lies before the forecast's origin, their errors divided by the level of their
history (its mean over the last `scale_window` points), pooled over the steps (and over the categories), and
their quantiles scaled by the level now (empirical prediction intervals; Hyndman & Athanasopoulos, FPP3,
5.5). A judged fold uses only errors known at its origin.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

LEVELS = (80, 95)
FOLDS = 6  # judged rolling origins
CALIBRATION = 4  # earlier origins whose errors set a forecast's intervals (the latest: errors drift with the season)
MIN_CALIBRATION = 3  # fewer and a series is too short to judge
BOUNDS = [f"{b}_{lvl}" for lvl in LEVELS for b in ("lower", "upper")]


@dataclass(frozen=True)
class Method:
    """An ETS specification (additive errors), or a baseline: `naive` repeats the last value, `seasonal_naive`
    the last season (the last value while the history is shorter than one season)."""

    name: str
    trend: str | None = None
    damped: bool = False
    season: int | None = None

    def point(self, history: np.ndarray, horizon: int) -> np.ndarray:
        if self.name in ("naive", "seasonal_naive"):
            period = self.season if self.name == "seasonal_naive" and len(history) >= (self.season or 1) else 1
            return np.resize(history[-period:], horizon).astype("float64")
        model = ETSModel(pd.Series(np.asarray(history, dtype="float64")), error="add", trend=self.trend,
                         damped_trend=self.damped, seasonal="add" if self.season else None,
                         seasonal_periods=self.season)  # fmt: skip
        with warnings.catch_warnings():  # a flat series' optimizer complains; its forecast is still the level
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            fitted = model.fit(disp=False)
        return np.asarray(fitted.forecast(horizon), dtype="float64")


@dataclass(frozen=True)
class Series:
    """What one family forecasts: the candidates, the baselines, the horizon and the rolling origin."""

    kind: str  # revenue | demand
    candidates: tuple[Method, ...]
    baselines: tuple[Method, ...]
    horizon: int  # steps (days or weeks)
    step: int  # steps between two origins
    scale_window: int  # the last points whose mean is a history's level
    min_history: int  # the shortest history a forecast is fitted on


REVENUE = Series(
    "revenue",
    candidates=(Method("ets_additive_weekly", season=7), Method("ets_damped_trend_weekly", "add", True, 7)),
    baselines=(Method("naive"), Method("seasonal_naive", season=7)),
    horizon=90,
    step=14,
    scale_window=7,
    min_history=28,
)
DEMAND = Series(
    "demand",
    candidates=(Method("ets_level"), Method("ets_damped_trend", "add", True)),
    baselines=(Method("naive"), Method("seasonal_naive", season=52)),
    horizon=8,
    step=2,
    scale_window=8,
    min_history=8,
)
SERIES = {"revenue": REVENUE, "demand": DEMAND}
PRIMARY = {"revenue": "mape", "demand": "mase"}  # lower is better for both
REVENUE_SHORT = 30  # days: the 30-day forecast is the 90-day one's first 30 days


def origins(n: int, series: Series, folds: int = FOLDS) -> list[int]:
    """The judged folds' origins, oldest first: each fits on the first `origin` points and is judged on the
    `horizon` after it; the newest ends on the series' last point."""
    return sorted(n - series.horizon - series.step * i for i in range(folds))


def calibration_origins(origin: int, series: Series) -> list[int]:
    """The origins whose errors set the intervals of a forecast made at `origin`: their horizon ends by it."""
    found = [origin - series.horizon - series.step * j for j in range(CALIBRATION)]
    return [o for o in found if o >= series.min_history]


def min_length(series: Series, folds: int = FOLDS) -> int:
    """The shortest series whose oldest judged fold has `MIN_CALIBRATION` origins to calibrate on."""
    oldest_calibration = series.min_history + series.step * (MIN_CALIBRATION - 1)
    return oldest_calibration + 2 * series.horizon + series.step * (folds - 1)


class _Paths:
    """Point forecasts of one method for the columns of a table, each origin fitted once."""

    def __init__(self, method: Method, series: Series, table: pd.DataFrame) -> None:
        self.method, self.series, self.table = method, series, table
        self.cache: dict[tuple[str, int], np.ndarray] = {}

    def point(self, column: str, origin: int) -> np.ndarray:
        if (column, origin) not in self.cache:
            history = self.table[column].to_numpy()[:origin]
            self.cache[(column, origin)] = np.maximum(self.method.point(history, self.series.horizon), 0.0)
        return self.cache[(column, origin)]

    def level(self, column: str, origin: int) -> float:
        level = float(self.table[column].to_numpy()[max(0, origin - self.series.scale_window) : origin].mean())
        return level if level > 0 else 1.0

    def quantiles(self, origin: int) -> dict[str, float]:
        """The relative error quantiles of each bound, pooled over the columns and steps of the calibration
        origins of `origin`."""
        errors = []
        for column in self.table.columns:
            values = self.table[column].to_numpy()
            for o in calibration_origins(origin, self.series):
                actual = values[o : o + self.series.horizon]
                errors.append((actual - self.point(column, o)) / self.level(column, o))
        pooled = np.concatenate(errors)
        return {f"{b}_{lvl}": float(np.quantile(pooled, (1 - lvl / 100) / 2 if b == "lower" else (1 + lvl / 100) / 2))
                for lvl in LEVELS for b in ("lower", "upper")}  # fmt: skip

    def forecast(self, column: str, origin: int, quantiles: dict[str, float] | None) -> pd.DataFrame:
        mean = self.point(column, origin)
        out = pd.DataFrame({"step": np.arange(1, self.series.horizon + 1), "mean": mean})
        for bound in BOUNDS:
            out[bound] = np.maximum(mean + quantiles[bound] * self.level(column, origin), 0.0) if quantiles else np.nan
        return out


def backtest(method: Method, series: Series, table: pd.DataFrame, intervals: bool = True) -> pd.DataFrame:
    """One row per column, judged fold and step ahead: series, origin, step, actual, mean and the bounds (NaN
    without `intervals`: the baselines)."""
    paths, frames = _Paths(method, series, table), []
    for origin in origins(len(table), series):
        quantiles = paths.quantiles(origin) if intervals else None
        for column in table.columns:
            out = paths.forecast(column, origin, quantiles)
            out.insert(0, "origin", origin)
            out.insert(0, "series", column)
            out.insert(3, "actual", table[column].to_numpy()[origin : origin + series.horizon])
            frames.append(out)
    return pd.concat(frames, ignore_index=True)


def ahead(method: Method, series: Series, table: pd.DataFrame) -> pd.DataFrame:
    """The forecast after the table's last row, per column: series, step, mean and the bounds."""
    paths, origin = _Paths(method, series, table), len(table)
    quantiles = paths.quantiles(origin)
    frames = [paths.forecast(c, origin, quantiles).assign(series=c) for c in table.columns]
    return pd.concat(frames, ignore_index=True)[["series", "step", "mean", *BOUNDS]]


def mape(folds: pd.DataFrame) -> float:
    """Mean absolute percentage error, in percent, over the steps whose actual is not zero."""
    judged = folds[folds["actual"] != 0]
    return float((judged["mean"] - judged["actual"]).abs().div(judged["actual"].abs()).mean() * 100)


def coverage(folds: pd.DataFrame, level: int) -> float:
    """The share of actuals inside the `level`% interval, in percent."""
    inside = (folds["actual"] >= folds[f"lower_{level}"]) & (folds["actual"] <= folds[f"upper_{level}"])
    return float(inside.mean() * 100)


def mase(folds: pd.DataFrame, values: np.ndarray) -> float:
    """Mean absolute scaled error over the folds: each fold's absolute errors divided by the mean absolute
    one-step naive change of that fold's own history (Hyndman & Koehler, 2006)."""
    scaled = []
    for origin, fold in folds.groupby("origin"):
        scale = np.abs(np.diff(values[:origin])).mean()
        scaled.append((fold["mean"] - fold["actual"]).abs() / (scale if scale > 0 else 1.0))
    return float(pd.concat(scaled).mean())


def judge(method: Method, series: Series, table: pd.DataFrame, intervals: bool = True) -> tuple[dict, pd.DataFrame]:
    """A method's figures over the judged folds of every column of `table`, and the folds. Revenue: MAPE over
    90 and 30 days; demand: MASE per category and its mean; both: the intervals' coverage."""
    folds = backtest(method, series, table, intervals)
    if series.kind == "revenue":
        figures = {"mape": mape(folds), "mape_30d": mape(folds[folds["step"] <= REVENUE_SHORT])}
    else:
        per = {c: mase(folds[folds["series"] == c], table[c].to_numpy()) for c in table.columns}
        figures = {"mase": float(np.mean(list(per.values()))), **{metric_name("mase", c): v for c, v in per.items()}}
    if intervals:
        figures |= {f"coverage_{lvl}": coverage(folds, lvl) for lvl in LEVELS}
    return figures, folds


def metric_name(figure: str, category: str) -> str:
    """A figure of one category as an MLflow metric name (letters, digits and underscores): mase_home_kitchen."""
    return f"{figure}_{re.sub(r'[^a-z0-9]+', '_', category.lower()).strip('_')}"


def daily(frame: pd.DataFrame, value: str, last_day: pd.Timestamp) -> pd.Series:
    """A per-day column as a series over every day from the first row's to `last_day`, zero where no row."""
    dates = pd.to_datetime(frame["sales_date"])
    kept = frame[dates <= last_day].assign(sales_date=dates[dates <= last_day])
    days = pd.date_range(kept["sales_date"].min(), last_day, freq="D") if len(kept) else pd.DatetimeIndex([])
    return kept.groupby("sales_date")[value].sum().reindex(days, fill_value=0).astype("float64")


def weekly(frame: pd.DataFrame, last_day: pd.Timestamp) -> pd.DataFrame:
    """Units per category per week, weeks ending on `last_day` (and every 7 days before it); the oldest week
    is dropped unless it is whole. Index: each week's last day; columns: categories."""
    dates = pd.to_datetime(frame["sales_date"])
    kept = frame[dates <= last_day].assign(sales_date=dates[dates <= last_day])
    if kept.empty:
        return pd.DataFrame()
    weeks_back = (last_day - kept["sales_date"]).dt.days // 7
    kept = kept.assign(week_end=last_day - pd.to_timedelta(weeks_back * 7, unit="D"))
    table = kept.pivot_table(index="week_end", columns="product_category", values="units", aggfunc="sum")
    ends = pd.date_range(end=last_day, periods=int(weeks_back.max()) + 1, freq="7D")
    table = table.reindex(ends, fill_value=0).fillna(0).astype("float64")
    if (kept["sales_date"].min() - (ends[0] - pd.Timedelta(days=6))).days > 0:
        table = table.iloc[1:]  # the first week began before the first sale: partial
    return table


@dataclass(frozen=True)
class Forecaster:
    """What a registered version is: the chosen specification of one kind. It is fitted again on the history
    it is given (the newest data shapes a forecast most)."""

    kind: str
    method: Method

    def predict(self, table: pd.DataFrame) -> pd.DataFrame:
        """The forecast after `table` (one column per series, oldest row first): one row per series and step
        ahead, with the interval bounds."""
        return ahead(self.method, SERIES[self.kind], table)
