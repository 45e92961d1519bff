"""The revenue and demand forecasters in the pipeline, on each target: their series rebuilt here from the
orders (pandas), their forecasts refitted here with statsmodels from the champion's logged specification,
their intervals and every logged backtest figure recomputed here from the rolling-origin folds, and the gate
refusing a worse forecaster on a private copy with its own MLflow store."""

from __future__ import annotations

import re
import uuid
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from c360_core.settings import settings
from ml import forecast, pipeline, registry
from tests.support.ml_warehouse import ML_AS_OF, ml_env
from tests.support.warehouse import env, fork, frame

LAST_DAY = pd.Timestamp(ML_AS_OF) - pd.Timedelta(days=1)  # the as-of day is not over: the first forecast
HORIZON, STEP, FOLDS, CALIBRATION = 90, 14, 6, 4  # revenue, as docs/ml.md states them
WEEKS, WEEK_STEP = 8, 2
LEVELS = {80: (0.1, 0.9), 95: (0.025, 0.975)}


def daily_revenue(values: dict) -> pd.Series:
    """The counted orders' revenue per day up to the last whole day, every day from the first sale, 0 when none."""
    orders = frame(values, "select ordered_at, total_amount from marts.orders where is_counted")
    day = pd.to_datetime(orders["ordered_at"]).dt.normalize()
    # to the cent, as the warehouse sums money (decimals): a last-bit difference moves ETS's optimum
    per_day = orders.assign(day=day)[day <= LAST_DAY].groupby("day")["total_amount"].sum().round(2)
    return per_day.reindex(pd.date_range(per_day.index.min(), LAST_DAY), fill_value=0).astype(float)


def weekly_units(values: dict) -> pd.DataFrame:
    """Units per category per week, weeks ending on the last whole day, whole weeks only."""
    lines = frame(values, "select ordered_at, product_category, quantity from marts.orders_enriched where is_counted")
    day = pd.to_datetime(lines["ordered_at"]).dt.normalize()
    lines = lines.assign(day=day)[day <= LAST_DAY]
    first_whole_week_end = LAST_DAY - pd.Timedelta(days=7 * ((LAST_DAY - lines["day"].min()).days // 7))
    if (first_whole_week_end - lines["day"].min()).days < 6:
        first_whole_week_end += pd.Timedelta(days=7)
    lines = lines[lines["day"] > first_whole_week_end - pd.Timedelta(days=7)]
    week_end = LAST_DAY - pd.to_timedelta((LAST_DAY - lines["day"]).dt.days // 7 * 7, unit="D")
    table = lines.assign(week_end=week_end).pivot_table(index="week_end", columns="product_category",
                                                        values="quantity", aggfunc="sum")  # fmt: skip
    return table.reindex(pd.date_range(first_whole_week_end, LAST_DAY, freq="7D"), fill_value=0).fillna(0)


def champion_run(values: dict, model: str):
    with env(values):
        mlc = registry.client(settings())
        version = mlc.get_model_version_by_alias(model, "champion")
        return version, mlc.get_run(version.run_id).data


def ets(history: np.ndarray, params: dict, horizon: int) -> np.ndarray:
    season = None if params["season"] == "None" else int(params["season"])
    model = ETSModel(pd.Series(history, dtype=float), error="add", trend=None if params["trend"] == "None" else "add",
                     damped_trend=params["damped"] == "True", seasonal="add" if season else None,
                     seasonal_periods=season)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.maximum(np.asarray(model.fit(disp=False).forecast(horizon)), 0.0)


def bounds(point: np.ndarray, errors: list[np.ndarray], level: float) -> dict[str, np.ndarray]:
    """Empirical intervals: the pooled relative errors' quantiles times today's level, around the point."""
    pooled = np.concatenate(errors)
    return {f"{side}_{lvl}": np.maximum(point + np.quantile(pooled, q) * level, 0.0)
            for lvl, qs in LEVELS.items() for side, q in zip(("lower", "upper"), qs, strict=True)}  # fmt: skip


def calibrated(y: np.ndarray, origin: int, params: dict) -> list[np.ndarray]:
    """The relative errors of the daily revenue forecasts at the `CALIBRATION` origins whose horizon ends by
    `origin` (with at least 28 days of history), each divided by the mean of its history's last 7 days."""
    errors = []
    for j in range(CALIBRATION):
        o = origin - HORIZON - STEP * j
        if o >= 28:
            errors.append((y[o : o + HORIZON] - ets(y[:o], params, HORIZON)) / (y[o - 7 : o].mean() or 1.0))
    return errors


def test_the_revenue_forecast_is_the_champions_ets_refitted_on_the_daily_revenue(ml_built):
    y = daily_revenue(ml_built).to_numpy()
    version, run = champion_run(ml_built, "c360-revenue-forecast")
    published = frame(ml_built, "select * from ml.revenue_forecast").sort_values("horizon_days")
    point = ets(y, run.params, HORIZON)
    assert list(published["horizon_days"]) == list(range(1, HORIZON + 1))
    assert list(pd.to_datetime(published["forecast_date"])) == list(pd.date_range(ML_AS_OF, periods=HORIZON))
    assert (published["model_version"] == int(version.version)).all()
    np.testing.assert_allclose(published["revenue_forecast"], point, rtol=1e-6, atol=1e-3)
    expected = bounds(point, calibrated(y, len(y), run.params), y[-7:].mean())
    for name, values in expected.items():
        np.testing.assert_allclose(published[f"revenue_{name}"], values, rtol=1e-6, atol=1e-3, err_msg=name)
    assert (published["revenue_lower_95"] <= published["revenue_lower_80"]).all()
    assert (published["revenue_upper_80"] <= published["revenue_upper_95"]).all()


def test_the_revenue_backtest_figures_are_recomputed_from_six_rolling_origins(ml_built):
    y = daily_revenue(ml_built).to_numpy()
    _, run = champion_run(ml_built, "c360-revenue-forecast")
    origins = [len(y) - HORIZON - STEP * i for i in range(FOLDS)]

    def mape(forecasts: dict[int, np.ndarray], days: int = HORIZON) -> float:
        errors = [np.abs(f[:days] - y[o : o + days])[y[o : o + days] != 0] / y[o : o + days][y[o : o + days] != 0]
                  for o, f in forecasts.items()]  # fmt: skip
        return float(np.concatenate(errors).mean() * 100)

    naive = {o: np.repeat(y[o - 1], HORIZON) for o in origins}
    seasonal = {o: np.resize(y[o - 7 : o], HORIZON) for o in origins}
    model = {o: ets(y[:o], run.params, HORIZON) for o in origins}
    logged = run.metrics
    assert logged["baseline_naive_mape"] == pytest.approx(mape(naive))
    assert logged["baseline_seasonal_naive_mape"] == pytest.approx(mape(seasonal))
    assert logged["mape"] == pytest.approx(mape(model), rel=1e-6)
    assert logged["mape_30d"] == pytest.approx(mape(model, 30), rel=1e-6)
    inside = {80: [], 95: []}
    for o, point in model.items():
        found = bounds(point, calibrated(y, o, run.params), y[o - 7 : o].mean())
        for lvl in LEVELS:
            inside[lvl].append(
                (y[o : o + HORIZON] >= found[f"lower_{lvl}"]) & (y[o : o + HORIZON] <= found[f"upper_{lvl}"])
            )
    for lvl in LEVELS:
        assert logged[f"coverage_{lvl}"] == pytest.approx(np.concatenate(inside[lvl]).mean() * 100, rel=1e-6)
    # the acceptance figure: below seasonal naive (the coverage is judged at 10,000 customers in make bench)
    assert logged["mape"] < logged["baseline_seasonal_naive_mape"]


def test_the_demand_forecast_is_each_categorys_ets_and_beats_seasonal_naive_on_most(ml_built):
    table = weekly_units(ml_built)
    version, run = champion_run(ml_built, "c360-demand-forecast")
    published = frame(ml_built, "select * from ml.demand_forecast")
    assert set(published["product_category"]) == set(table.columns)
    wins = 0
    for category in table.columns:
        y = table[category].to_numpy(dtype=float)
        rows = published[published["product_category"] == category].sort_values("horizon_weeks")
        assert list(rows["horizon_weeks"]) == list(range(1, WEEKS + 1))
        assert list(pd.to_datetime(rows["week_end"])) == list(pd.date_range(LAST_DAY + pd.Timedelta(days=7),
                                                                           periods=WEEKS, freq="7D"))  # fmt: skip
        np.testing.assert_allclose(rows["units_forecast"], ets(y, run.params, WEEKS), rtol=1e-6, atol=1e-3)
        origins = [len(y) - WEEKS - WEEK_STEP * i for i in range(FOLDS)]

        def mase(forecasts: dict[int, np.ndarray], y=y) -> float:
            return float(np.mean([np.abs(f - y[o : o + WEEKS]) / (np.abs(np.diff(y[:o])).mean() or 1.0)
                                  for o, f in forecasts.items()]))  # fmt: skip

        model = mase({o: ets(y[:o], run.params, WEEKS) for o in origins})
        seasonal = mase({o: np.repeat(y[o - 1], WEEKS) for o in origins})  # under 52 weeks: the last week
        slug = re.sub(r"[^a-z0-9]+", "_", category.lower()).strip("_")
        assert run.metrics[f"mase_{slug}"] == pytest.approx(model, rel=1e-6), category
        wins += model < seasonal
    assert run.metrics["categories_beating_seasonal_naive"] == wins
    assert wins > len(table.columns) / 2
    assert (published["model_version"] == int(version.version)).all()


@pytest.mark.duckdb_only  # the gate is the same Python on every target (as in test_champion_gate.py)
def test_a_worse_forecaster_is_refused_and_the_forecast_stays(ml_built, tmp_path_factory, monkeypatch):
    """On a private copy with an empty MLflow store: the ETS forecaster becomes champion; a challenger that can
    only repeat the last day is judged on the same folds, refused, and the published forecast does not change."""
    values = ml_env(
        ml_built["C360_TARGET"], tmp_path_factory.mktemp("forecast_gate"), f"c360_test_{uuid.uuid4().hex[:8]}"
    )
    with fork(ml_built, values), env(values):
        cfg = settings()
        assert not registry.store_exists(cfg)
        with pytest.raises(pipeline.MLError, match="no champion"):
            pipeline.score(cfg, "revenue_forecast")
        assert pipeline.train(cfg, "revenue_forecast").status == "trained"
        assert pipeline.gate(cfg, "revenue_forecast").status == "promoted"
        pipeline.score(cfg, "revenue_forecast")
        before = frame(values, "select forecast_date, revenue_forecast, model_version from ml.revenue_forecast")
        monkeypatch.setattr(
            forecast,
            "REVENUE",
            forecast.Series(**{**forecast.REVENUE.__dict__, "candidates": (forecast.Method("naive"),)}),
        )
        monkeypatch.setitem(forecast.SERIES, "revenue", forecast.REVENUE)
        worse = pipeline.train(cfg, "revenue_forecast")
        assert worse.status == "trained" and worse.version == 2
        decided = pipeline.gate(cfg, "revenue_forecast")
        assert decided.status == "kept" and decided.champion_version == 1
        assert decided.metrics["challenger"] == pytest.approx(worse.metrics["baseline_naive_mape"])
        assert decided.metrics["challenger"] > decided.metrics["champion"]
        pipeline.score(cfg, "revenue_forecast")
        after = frame(values, "select forecast_date, revenue_forecast, model_version from ml.revenue_forecast")
        pd.testing.assert_frame_equal(after.sort_values("forecast_date").reset_index(drop=True),
                                      before.sort_values("forecast_date").reset_index(drop=True))  # fmt: skip
