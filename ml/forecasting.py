"""The forecast families' steps (ml/forecast.py is the model): the same train -> gate -> score as the other
families (ml/pipeline.py), over a daily series instead of the customer features.

- **train**: every candidate specification and baseline is judged on the same rolling-origin folds of the
  history up to the score cutoff (each fold fits only on what lies before its origin: out of time by
  construction); the best candidate is logged to MLflow and registered as `challenger`, nothing new when
  the series and the configuration are unchanged.
- **gate**: the challenger's and the champion's specifications are judged again on today's folds; the
  challenger needs the family's margin on the primary figure (MAPE for revenue, mean MASE for demand).
- **score**: the champion's specification fitted on the whole history, its forecast after the cutoff into
  ml.revenue_forecast or ml.demand_forecast.
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
from ml import forecast, predictions, registry
from ml.catalog import SPECS
from ml.pipeline import MLError, Report, champion_to_score, register_or_unchanged

KIND = {"revenue_forecast": "revenue", "demand_forecast": "demand"}
SOURCE = {"revenue": "select sales_date, revenue from ml.ml_daily_revenue",
          "demand": "select sales_date, product_category, units from ml.ml_daily_category_units"}  # fmt: skip


def _read(cfg: Settings, kind: str) -> tuple[pd.Timestamp, pd.DataFrame]:
    """The last whole day before the score cutoff and the series up to it: one column (revenue) or one per
    category (demand). The cutoff's own day is the first forecast: on the as-of day, it is not over."""
    with connect(cfg) as wh:
        cutoffs = feats.cutoffs(wh)
        frame = wh.fetch_frame(SOURCE[kind])
    last_day = pd.Timestamp(cutoffs.dates["score"]) - pd.Timedelta(days=1)
    if kind == "revenue":
        return last_day, forecast.daily(frame, "revenue", last_day).to_frame("revenue")
    return last_day, forecast.weekly(frame, last_day)


def _fingerprint(key: str, table: pd.DataFrame, last_day: pd.Timestamp) -> str:
    data = pd.util.hash_pandas_object(table, index=True).sum()
    spec = forecast.SERIES[KIND[key]]
    return hashlib.sha256(f"{data}|{list(table.columns)}|{last_day}|{SPECS[key].margin}|{spec}".encode()).hexdigest()[
        :16
    ]


def _too_little(kind: str, last_day: pd.Timestamp, table: pd.DataFrame) -> str | None:
    """Why the series is too short to backtest a forecaster on (train skips, score has no champion), or None."""
    needed = forecast.min_length(forecast.SERIES[kind])
    if len(table) >= needed and not table.empty:
        return None
    unit = "days" if kind == "revenue" else "whole weeks"
    return (f"too little history: {len(table)} {unit} up to {last_day.date()}, at least {needed} are needed for "
            f"{forecast.FOLDS} folds (docs/ml.md, Forecasts)")  # fmt: skip


def train(cfg: Settings, key: str) -> Report:
    kind = KIND[key]
    series, primary = forecast.SERIES[kind], forecast.PRIMARY[kind]
    last_day, table = _read(cfg, kind)
    if why := _too_little(kind, last_day, table):
        return Report(key, "skipped", why)
    # candidates and baselines on the same folds, points only; the chosen one's intervals after
    judged = {m.name: forecast.judge(m, series, table, intervals=False) for m in (*series.candidates,
                                                                                 *series.baselines)}  # fmt: skip
    best = min(series.candidates, key=lambda m: judged[m.name][0][primary])
    judged[best.name] = forecast.judge(best, series, table)
    metrics = dict(judged[best.name][0])
    for baseline in series.baselines:
        metrics |= {f"baseline_{baseline.name}_{k}": v for k, v in judged[baseline.name][0].items()
                    if "coverage" not in k and (kind == "revenue" or k == primary)}  # fmt: skip
    if kind == "demand":
        snaive = judged["seasonal_naive"][0]
        name = [forecast.metric_name("mase", c) for c in table.columns]
        wins = [n for n in name if metrics[n] < snaive[n]]
        metrics |= {"categories": len(table.columns), "categories_beating_seasonal_naive": len(wins)}
    fingerprint = _fingerprint(key, table, last_day)
    model = forecast.Forecaster(kind, best)
    with mlflow.start_run(experiment_id=registry.experiment_id(cfg, SPECS[key].model_name),
                          run_name=f"{key} {last_day.date()}") as run:  # fmt: skip
        mlflow.set_tags({"mlflow.source.git.commit": registry.git_commit(), "c360.family": key,
                         "c360.fingerprint": fingerprint, "c360.target": cfg.target})  # fmt: skip
        mlflow.log_params({"algorithm": f"statsmodels ETS: {best.name}", "trend": best.trend, "damped": best.damped,
                           "season": best.season, "candidates": ",".join(m.name for m in series.candidates),
                           "horizon": series.horizon, "folds": forecast.FOLDS, "fold_step": series.step,
                           "first_period": str(table.index[0].date()), "last_period": str(last_day.date()),
                           "cutoff_score": str((last_day + pd.Timedelta(days=1)).date()),
                           "periods": len(table), "series": len(table.columns),
                           "data_fingerprint": fingerprint})  # fmt: skip
        mlflow.log_metrics(metrics)
        mlflow.log_figure(_figure(kind, table, model), f"plots/{kind}_forecast.png")
        plt.close("all")
        folds = judged[best.name][1]
        registry.log_table(folds.assign(origin_period=table.index[folds["origin"]].astype(str)), "tables/folds.json")
        uri = registry.log_object(model, table.reset_index(drop=True))
    info = {"fingerprint": fingerprint, "run_id": run.info.run_id, "algorithm": best.name}
    return register_or_unchanged(cfg, SPECS[key], (fingerprint, uri), metrics, primary=primary, info=info)


def _figure(kind: str, table: pd.DataFrame, model: forecast.Forecaster):
    """The last months of history and the forecast after them with its 80% and 95% bands (revenue; demand:
    the total over categories, each category's bounds summed: an upper bound of the total's)."""
    history = table.sum(axis=1)
    ahead = model.predict(table).groupby("step")[["mean", "lower_80", "upper_80", "lower_95", "upper_95"]].sum()
    freq = pd.Timedelta(days=1 if kind == "revenue" else 7)
    dates = pd.date_range(table.index[-1] + freq, periods=len(ahead), freq=freq)
    shown = history.tail(180 if kind == "revenue" else 26)
    fig, ax = plt.subplots(figsize=(7, 3.4), dpi=100)
    ax.plot(shown.index, shown.to_numpy(), color="#555555", linewidth=0.8, label="actual")
    ax.plot(dates, ahead["mean"], color="#1f77b4", label="forecast")
    for level, alpha in ((95, 0.15), (80, 0.3)):
        ax.fill_between(dates, ahead[f"lower_{level}"], ahead[f"upper_{level}"], color="#1f77b4", alpha=alpha,
                        linewidth=0, label=f"{level}% interval")  # fmt: skip
    ax.set(title=f"{'Daily revenue' if kind == 'revenue' else 'Weekly units, all categories'}: "
           f"{model.method.name}", ylabel="revenue" if kind == "revenue" else "units")  # fmt: skip
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    return fig


def evaluate(cfg: Settings, key: str, versions: list) -> list[float]:
    """Each registered version's primary figure on today's folds (the series read once for all)."""
    kind = KIND[key]
    _, table = _read(cfg, kind)
    series = forecast.SERIES[kind]
    methods = [registry.load_object(SPECS[key].model_name, v.version).method for v in versions]
    return [forecast.judge(m, series, table)[0][forecast.PRIMARY[kind]] for m in methods]


def score(cfg: Settings, key: str) -> Report:
    spec = SPECS[key]
    kind = KIND[key]
    last_day, table = _read(cfg, kind)
    champion = champion_to_score(cfg, spec, unavailable=_too_little(kind, last_day, table))
    if len(table) < forecast.min_length(forecast.SERIES[kind], folds=1):
        raise MLError(f"{spec.model_name}: {len(table)} periods of history up to {last_day.date()}, too few to "
                      "forecast from; the forecast is left as it was")  # fmt: skip
    model = registry.load_object(spec.model_name, champion.version)
    ahead = model.predict(table)
    step = pd.to_timedelta(ahead["step"] * (1 if kind == "revenue" else 7), unit="D")
    fixed = (spec.model_name, int(champion.version), (last_day + pd.Timedelta(days=1)).date(),
             dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0))  # fmt: skip
    if kind == "revenue":
        period = [d.date() for d in last_day + step]
        keys = list(zip(period, ahead["step"], strict=True))
    else:
        ends = last_day + step
        keys = list(zip(ahead["series"], [d.date() for d in ends - pd.Timedelta(days=6)],
                        [d.date() for d in ends], ahead["step"], strict=True))  # fmt: skip
    values = ahead[["mean", *forecast.BOUNDS]].round(4).astype("float64").itertuples(index=False, name=None)
    rows = [(*k, *v, *fixed) for k, v in zip(keys, values, strict=True)]
    with connect(cfg) as wh:
        predictions.replace(wh, spec.table, arrow_table(predictions.TABLES[spec.table], rows))
    unit = "days" if kind == "revenue" else "weeks"
    what = f"{_described(table)} for {forecast.SERIES[kind].horizon} {unit}"
    return Report(key, "scored", f"{what} after {last_day.date()} by version {champion.version} "
                  f"({model.method.name})", int(champion.version), int(champion.version),
                  info={"rows": len(rows)})  # fmt: skip


def _described(table: pd.DataFrame) -> str:
    return "daily revenue" if list(table.columns) == ["revenue"] else f"{len(table.columns)} categories' weekly units"
