"""Pure helpers of ml/: feature selection, cluster naming, risk bands, fingerprints."""

import os

import numpy as np
import pandas as pd

from c360_core.settings import settings
from ml import churn, registry, segments
from ml.features import GROUPS, fingerprint, select_features


def test_features_without_data_are_dropped_and_their_group_named_absent():
    rows = pd.DataFrame({c: np.arange(4, dtype=float) for g in GROUPS.values() for c in g})
    for column in GROUPS["web"]:
        rows[column] = np.nan  # no web analytics at all
    rows["age"] = np.nan  # no birth dates in the CRM
    rows["is_married"] = 1.0  # constant: no information
    rows.loc[0, "annual_income"] = np.nan  # one missing value: kept (imputed with an indicator)
    chosen = select_features(rows)
    assert chosen.groups_absent == ["web"] and "crm" in chosen.groups_used
    assert chosen.dropped["age"] == "no data before the cutoff" and chosen.dropped["is_married"] == "constant"
    assert "annual_income" in chosen.columns and not set(chosen.columns) & set(GROUPS["web"])


def test_cluster_names_follow_the_documented_rule():
    centroids = pd.DataFrame(
        {"monetary_value": [1.2, -0.9, 0.1, 0.1], "frequency_orders": [1.1, -0.8, 0.0, 0.0],
         "recency_days": [-0.7, 0.9, 0.0, 0.2], "sessions_count": [0.3, -0.2, 1.5, -1.1]}
    )  # fmt: skip
    assert segments.names(centroids) == [
        "high-value frequent buyers, recently active",
        "low-value one-off buyers, lapsing",
        "mid-value regular buyers (high sessions count)",
        "mid-value regular buyers (low sessions count)",
    ]


def test_risk_bands_cut_the_calibrated_probability_at_0_3_and_0_6():
    bands = churn.risk_band(np.array([0.0, 0.299, 0.3, 0.599, 0.6, 1.0]))
    assert bands.tolist() == ["low", "low", "medium", "medium", "high", "high"]


def test_the_fingerprint_changes_with_any_value_and_not_with_float_noise():
    rows = pd.DataFrame({"customer_id": ["C1", "C2"], "x": [1.0, 2.5]})
    same = rows.assign(x=[1.0 + 1e-12, 2.5])
    other = rows.assign(x=[1.0, 2.6])
    assert fingerprint(rows) == fingerprint(same) != fingerprint(other)


def test_opening_the_registry_leaves_the_process_environment_as_it_was(tmp_path, monkeypatch):
    """mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI; a second warehouse in the same process
    must not inherit the first one's store."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path / "a"))
    registry.client(settings())
    assert "MLFLOW_TRACKING_URI" not in os.environ
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path / "b"))
    assert settings().mlflow_tracking_uri == f"sqlite:///{tmp_path / 'b' / 'mlflow.db'}"


def test_clustering_tolerates_the_odd_missing_value():
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({c: rng.gamma(2.0, 3.0, 120) for c in segments.BEHAVIOUR})
    rows.loc[5, "avg_order_value"] = np.nan  # a buyer without a defined ratio
    trained = segments.train(rows, segments.BEHAVIOUR)
    labels = trained.model.predict(rows[segments.BEHAVIOUR])
    assert len(labels) == len(rows) and labels[5] in set(labels[:5]) | set(labels[6:])


def test_a_reason_is_the_drop_in_risk_when_that_one_feature_takes_todays_median():
    from sklearn.calibration import CalibratedClassifierCV  # noqa: PLC0415
    from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: PLC0415

    rng = np.random.default_rng(3)
    features = ["recency_days", "frequency_orders", "monetary_value"]
    frame = pd.DataFrame(rng.normal(size=(400, 3)) * [30, 3, 100] + [60, 4, 300], columns=features)
    frame.loc[5, "monetary_value"] = np.nan
    y = (frame["recency_days"] + rng.normal(scale=10, size=400) > 60).astype(int)
    model = CalibratedClassifierCV(HistGradientBoostingClassifier(max_iter=30), cv=3, ensemble=False).fit(frame, y)
    medians = frame.median()
    found = churn.reasons(model, frame, features, medians, top=3)
    # by hand: the uncalibrated model's risk, less its risk with one value replaced by the median
    base = model.calibrated_classifiers_[0].estimator
    for i in (0, 5, 17, 399):
        row = frame.iloc[[i]]
        full = base.predict_proba(row)[0, 1]
        drops = {f: round(full - base.predict_proba(row.assign(**{f: medians[f]}))[0, 1], 6) for f in features}
        kept = sorted((f for f in features if drops[f] > 0 and not np.isnan(row[f].iloc[0])),
                      key=lambda f: (-drops[f], features.index(f)))  # fmt: skip
        assert [r.split("=")[0] for r in found[i]] == kept
        assert [float(r.split("(+")[1].rstrip(")")) for r in found[i]] == [round(drops[f], 2) for f in kept]
