"""The ML pipeline end to end on each target: features -> train -> champion gate -> score -> customer_360,
checked against figures computed from the landing files and recomputed here with scikit-learn."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mean_absolute_error, roc_auc_score

from c360_core.settings import settings
from c360_core.warehouse import connect
from ml import features, registry
from ml.btyd import BGNBD, GammaGamma
from ml.catalog import SPECS
from tests.ml import expected
from tests.support.ml_warehouse import ML_AS_OF
from tests.support.warehouse import env, frame, landing_of, materialize_all


def mlflow_client(values: dict) -> MlflowClient:
    with env(values):
        return registry.client(settings())


def champion(values: dict, family: str) -> int:
    return int(mlflow_client(values).get_model_version_by_alias(SPECS[family].model_name, "champion").version)


def test_the_cutoffs_and_their_lookback_follow_the_landing_files(ml_built):
    dates, lookback = expected.cutoffs(landing_of(ml_built), ML_AS_OF)
    found = frame(ml_built, "select cutoff_role, cutoff_date, lookback_days, horizon_days from ml.ml_cutoffs")
    assert {r.cutoff_role: pd.Timestamp(r.cutoff_date).date() for r in found.itertuples()} == dates
    assert set(found["lookback_days"]) == {lookback} and set(found["horizon_days"]) == {expected.HORIZON}


def test_labels_match_the_landing_files(ml_built):
    landing = landing_of(ml_built)
    dates, lookback = expected.cutoffs(landing, ML_AS_OF)
    for role in ("train", "holdout"):
        buyers = expected.buyers(landing, dates[role], lookback)
        after = expected.future(landing, dates[role])
        labels = frame(ml_built, f"select customer_id, is_churned, future_revenue from ml.customer_labels "
                                 f"where cutoff_date = '{dates[role]}' and is_churned is not null")  # fmt: skip
        assert set(labels["customer_id"]) == buyers
        churned = {c for c in buyers if c not in after}
        assert set(labels.loc[labels["is_churned"].astype(bool), "customer_id"]) == churned
        revenue = dict(zip(labels["customer_id"], labels["future_revenue"], strict=True))
        assert all(revenue[c] == pytest.approx(after.get(c, (0, 0.0))[1]) for c in buyers)
        assert 0.1 < len(churned) / len(buyers) < 0.9  # both classes are well represented


def test_rfm_and_session_features_at_each_cutoff_match_the_landing_files(ml_built, ml_landing):
    """Recency, frequency, monetary value and sessions, as knowable at each cutoff (tests/ml/expected.py)."""
    dates, lookback = expected.cutoffs(ml_landing, ML_AS_OF)
    found = frame(ml_built, "select cutoff_role, customer_id, recency_days, frequency_orders, monetary_value, "
                            "sessions_count from ml.customer_features")  # fmt: skip
    for role, cutoff in dates.items():
        want = expected.features_at(ml_landing, cutoff, lookback)
        rows = found[found["cutoff_role"] == role].set_index("customer_id")
        buyers = rows[rows["frequency_orders"] > 0]
        assert set(buyers.index) == {c for c, f in want.items() if f.get("frequency_orders")}, role
        assert len(buyers) > 300, role
        for customer, row in buyers.iterrows():
            w = want[customer]
            assert (row.recency_days, row.frequency_orders) == (w["recency_days"], w["frequency_orders"]), customer
            assert row.monetary_value == pytest.approx(float(w["monetary_value"]), abs=1e-9), customer
        sessions = {c: f.get("sessions_count", 0) for c, f in want.items()}
        got = rows["sessions_count"].astype(int).to_dict()
        assert got == {c: sessions.get(c, 0) for c in got}, role
        assert sum(got.values()) > 1000, role


def test_predictions_cover_todays_buyers_by_the_champions_and_lapsed_buyers_by_rule(ml_built):
    """The champions score the lookback's buyers; every other customer with a counted order, however long ago,
    is answered by a rule (churn band `lapsed`, cluster `Lapsed buyers`) or the BG/NBD + Gamma-Gamma baseline
    (CLV); a prospect who browsed in the lookback gets the cluster `Browsing prospects`. All from the files."""
    landing = landing_of(ml_built)
    dates, lookback = expected.cutoffs(landing, ML_AS_OF)
    buyers = expected.buyers(landing, dates["score"], lookback)
    ever = expected.features_at(landing, dates["score"], 100_000)
    ever_bought = {c for c, f in ever.items() if f.get("frequency_orders")}
    lapsed = ever_bought - buyers
    browsers = {c for c, f in expected.features_at(landing, dates["score"], lookback).items()
                if f.get("sessions_count") and c not in ever_bought}  # fmt: skip
    assert len(lapsed) > 20 and len(browsers) > 20 and buyers < ever_bought
    profile = frame(ml_built, "select customer_id, churn_probability, churn_risk_band, predicted_clv, cluster_id, "
                              "cluster_name from marts.customer_360").set_index("customer_id")  # fmt: skip
    for family in ("churn", "clv", "clusters"):
        table = frame(ml_built, f"select * from {SPECS[family].table}").set_index("customer_id")
        by_champion = table[table["model_version"] == champion(ml_built, family)]
        assert set(by_champion.index) == buyers, family
        assert set(table.index) == ever_bought | (browsers if family == "clusters" else set()), family
        assert set(table.loc[list(lapsed), "model_version"]) == {0}, family
        assert set(table["cutoff_date"].map(lambda d: pd.Timestamp(d).date())) == {ML_AS_OF}
    # customer_360: every customer with a counted order has a band, a CLV and a cluster; only buyers a probability
    answered = profile.loc[list(ever_bought)]
    assert answered[["churn_risk_band", "predicted_clv", "cluster_id"]].notna().all().all()
    assert set(profile[profile["churn_probability"].notna()].index) == buyers
    assert set(profile[profile["predicted_clv"].notna()].index) == ever_bought
    churn = frame(ml_built, "select * from ml.churn_predictions").set_index("customer_id")
    scored = churn.loc[list(buyers)]
    assert scored["churn_probability"].between(0, 1).all()
    bands = pd.cut(scored["churn_probability"], [-0.1, 0.3, 0.6, 1.1], right=False, labels=["low", "medium", "high"])
    assert (bands.astype(str) == scored["churn_risk_band"]).all()
    assert scored["reason_1"].str.match(r"^[a-z_0-9]+=\S+ \(\+\d\.\d\d\)$").all()
    for customer in lapsed:
        row = churn.loc[customer]
        assert row.churn_risk_band == "lapsed" and pd.isna(row.churn_probability)
        f = ever[customer]
        assert row.reason_1 == (f"no counted order in the last {lookback} days: the last {f['recency_days']} days "
                                f"ago, {f['frequency_orders']} in all")  # fmt: skip
    assert profile.loc[list(buyers), "cluster_name"].str.contains(" buyers").all()
    assert set(profile.loc[list(lapsed), "cluster_name"]) == {"Lapsed buyers"}
    assert set(profile.loc[list(browsers), "cluster_name"]) == {"Browsing prospects"}
    # the lapsed buyers' CLV: BG/NBD + Gamma-Gamma fitted on everyone's whole history, counted from the files
    history = pd.DataFrame.from_dict({c: f for c, f in ever.items() if c in ever_bought}, orient="index").sort_index()
    x = history["frequency_orders"].to_numpy(float) - 1
    first, last = history["first_order_days_ago"].to_numpy(float), history["recency_days"].to_numpy(float)
    bgnbd = BGNBD.fit(x, first - last, first + 1)
    mean_value = history["monetary_value"].astype(float) / history["frequency_orders"]
    spend = GammaGamma.fit(history["frequency_orders"], mean_value)
    value = bgnbd.expected_purchases(90, x, first - last, first + 1) * spend.expected_spend(
        history["frequency_orders"], mean_value
    )
    want = pd.Series(value, index=history.index).loc[sorted(lapsed)]
    got = frame(ml_built, "select customer_id, predicted_clv from ml.clv_predictions").set_index("customer_id")
    # the same likelihoods maximised from the same rows; L-BFGS stops within its tolerance, so 0.1%
    assert got.loc[want.index, "predicted_clv"].to_numpy() == pytest.approx(want.to_numpy(), rel=1e-3, abs=1e-6)
    assert 0 < want.mean() < got.loc[list(buyers), "predicted_clv"].mean()


def _frames(values: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    with env(values), connect(settings()) as wh:
        return features.load(wh, "train", labels=True), features.load(wh, "holdout", labels=True)


def _champion(values: dict, family: str):
    """The champion model from the registry and its feature columns."""
    with env(values):
        version = registry.client(settings()).get_model_version_by_alias(SPECS[family].model_name, "champion")
        return registry.load(SPECS[family].model_name, version.version), version.tags["c360.features"].split(",")


def churn_aucs(values: dict) -> tuple[float, float]:
    """Holdout ROC AUC of the churn champion, and of logistic regression on recency alone fitted here."""
    train, holdout = _frames(values)
    model, columns = _champion(values, "churn")
    y = holdout["is_churned"].astype(int)
    recency = LogisticRegression().fit(train[["recency_days"]], train["is_churned"].astype(int))
    return (
        roc_auc_score(y, model.predict_proba(holdout[columns].astype(float))[:, 1]),
        roc_auc_score(y, recency.predict_proba(holdout[["recency_days"]])[:, 1]),
    )


def test_the_champions_beat_the_baselines_out_of_time(ml_built):
    """Recomputed here: the champion from the registry, the baselines fitted with scikit-learn."""
    champion_auc, recency_auc = churn_aucs(ml_built)
    assert champion_auc > recency_auc + 0.02

    _, holdout = _frames(ml_built)
    model, columns = _champion(ml_built, "clv")
    naive = holdout["monetary_value"] / holdout["lookback_days"] * expected.HORIZON
    mae = mean_absolute_error(holdout["future_revenue"], model.predict(holdout[columns].astype(float)))
    assert mae < mean_absolute_error(holdout["future_revenue"], naive)


def test_the_figures_logged_in_mlflow_equal_the_ones_recomputed_here(ml_built):
    """The champions' holdout AUC (churn) and MAE (CLV) in their training runs and gate records, recomputed
    with scikit-learn from the registry's models and the warehouse's holdout rows."""
    _, holdout = _frames(ml_built)
    mlc = mlflow_client(ml_built)
    for family, metric in (("churn", "roc_auc"), ("clv", "mae")):
        model, columns = _champion(ml_built, family)
        x = holdout[columns].astype(float)
        if family == "churn":
            figure = roc_auc_score(holdout["is_churned"].astype(int), model.predict_proba(x)[:, 1])
        else:  # predictions of revenue are clipped at 0 (a customer cannot spend less than nothing)
            figure = mean_absolute_error(holdout["future_revenue"], model.predict(x).clip(min=0))
        version = mlc.get_model_version_by_alias(SPECS[family].model_name, "champion")
        logged = mlc.get_run(version.run_id).data.metrics
        assert logged[metric] == pytest.approx(figure, rel=1e-12), family
        assert logged["gate_challenger_metric"] == pytest.approx(figure, rel=1e-12), family
        assert float(version.tags["c360.holdout_metric"]) == pytest.approx(figure, rel=1e-12), family


def test_mlflow_has_an_experiment_and_a_champion_per_family_with_full_runs(ml_built):
    mlc = mlflow_client(ml_built)
    dates, lookback = expected.cutoffs(landing_of(ml_built), ML_AS_OF)
    for spec in SPECS.values():
        [run] = mlc.search_runs([mlc.get_experiment_by_name(spec.model_name).experiment_id], max_results=1)
        assert run.data.tags["mlflow.source.git.commit"] != "unknown"
        # the rows each run saw: the buyers at its cutoffs, counted from the files (clusters: today's buyers)
        train, holdout = ("train", "holdout") if spec.supervised else ("score", "score")
        if spec.inputs == "features":  # the recommender's rows: tests/ml/test_recommendations.py
            rows = {k: len(expected.buyers(landing_of(ml_built), dates[c], lookback)) for k, c in
                    (("rows_train", train), ("rows_holdout", holdout))}  # fmt: skip
            assert {k: int(run.data.params[k]) for k in rows} == rows, spec.key
        assert len(run.data.params["data_fingerprint"]) == 16
        assert run.data.params["cutoff_score"] == ML_AS_OF.isoformat()
        plots = {Path(a.path).name for a in mlc.list_artifacts(run.info.run_id, "plots")}
        wanted = {"churn": {"roc.png", "precision_recall.png", "calibration.png", "lift.png", "confusion_matrix.png",
                            "feature_importance.png"},
                  "clv": {"predicted_vs_actual.png", "feature_importance.png"},
                  "clusters": {"silhouette_by_k.png", "cluster_profiles.png"},
                  "recommendations": {"recall_at_10.png"}, "revenue_forecast": {"revenue_forecast.png"},
                  "demand_forecast": {"demand_forecast.png"},
                  "anomalies": {"anomaly_scores.png"}, "channel": set()}[spec.key]  # fmt: skip
        assert wanted <= plots, spec.key
        version = mlc.get_model_version_by_alias(spec.model_name, "champion")
        assert version.run_id == run.info.run_id and "promoted" in version.tags["c360.gate_decision"]
        with env(ml_built):
            info = mlflow.models.get_model_info(f"models:/{spec.model_name}/{version.version}")
        assert info.signature is not None and info.saved_input_example_info is not None
    churn_run = mlc.search_runs([mlc.get_experiment_by_name("c360-churn").experiment_id], max_results=1)[0]
    for name in (
        "roc_auc",
        "pr_auc",
        "f1",
        "precision",
        "recall",
        "brier",
        "baseline_recency_logistic_roc_auc",
        "baseline_bgnbd_roc_auc",
        "cv_gradient_boosting_roc_auc_mean",
        "cv_svm_rbf_roc_auc_mean",
    ):
        assert name in churn_run.data.metrics, name


def _scored(values: dict, table: str) -> pd.DataFrame:
    """A predictions table without its scoring time, in a fixed order (a customer has several recommendations)."""
    found = frame(values, f"select * from {table}").drop(columns="scored_at")
    keys = [c for c in ("customer_id", "recommendation_rank", "product_category", "forecast_date", "week_end",
                        "record_type", "record_id") if c in found.columns]  # fmt: skip
    return found.sort_values(keys).reset_index(drop=True)


def test_a_rerun_with_unchanged_data_promotes_nothing_and_scores_the_same(ml_built):
    mlc = mlflow_client(ml_built)
    before = {f: champion(ml_built, f) for f in SPECS}
    versions = {f: len(mlc.search_model_versions(f"name = '{s.model_name}'")) for f, s in SPECS.items()}
    scored = {f: _scored(ml_built, s.table) for f, s in SPECS.items()}
    seen = _frames(ml_built)
    with env(ml_built):
        assert materialize_all("group:ml+")
    # rebuilt by dbt, the features are the same to the last bit (a float sum would not be: its
    # order changes with the parallel aggregation, and the data fingerprint with it)
    for before_frame, after_frame in zip(seen, _frames(ml_built), strict=True):
        pd.testing.assert_frame_equal(after_frame, before_frame, check_exact=True)
    assert {f: champion(ml_built, f) for f in SPECS} == before
    assert {f: len(mlc.search_model_versions(f"name = '{s.model_name}'")) for f, s in SPECS.items()} == versions
    for f, s in SPECS.items():
        assert mlc.get_model_version_by_alias(s.model_name, "champion").aliases == ["champion"]
        pd.testing.assert_frame_equal(_scored(ml_built, s.table), scored[f])
