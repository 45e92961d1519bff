"""The champion gate, every branch, with real MLflow on a copy of the year-long ML warehouse (a fresh MLflow
store of its own): no champion yet (scoring refuses, saying how to train), a first model promoted, a truly
better challenger replacing it (the alias moves, the predictions change and reach customer_360), a truly worse
one rejected (nothing changes), and a challenger whose features have no data refused. The churn model's
specification is what differs: a one-split tree (a "stump") is truly worse than a logistic regression on
the same features. Every AUC the gate logged is recomputed here with scikit-learn from the warehouse."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.tree import DecisionTreeClassifier

from c360_core.settings import settings
from c360_core.warehouse import connect
from ml import churn, pipeline, registry
from ml import features as feats
from ml.modeling import SEED, scaled
from tests.support.ml_warehouse import ml_env
from tests.support.warehouse import env, fork, frame, materialize_all

# The gate's branches are Python and MLflow, the same on every target; on PostgreSQL, the year-long warehouse
# (ml_built) trains, gates, scores and refreshes customer_360 already, and the other ML tests check it. Here on
# DuckDB only: the branches' retraining on a second target cost 28 s of the suite's time and tested nothing new.
pytestmark = pytest.mark.duckdb_only

MODEL = "c360-churn"
STUMP = {"stump": (DecisionTreeClassifier(max_depth=1, random_state=SEED), None)}
LOGISTIC = {"logistic_regression": (scaled(LogisticRegression(C=1.0, max_iter=2000)), None)}
DEPTH_TWO = {"two_splits": (DecisionTreeClassifier(max_depth=2, random_state=SEED), None)}
WEAKER_PENALTY = {"logistic_regression": (scaled(LogisticRegression(C=0.5, max_iter=2000)), None)}


@dataclass
class Story:
    values: dict
    no_champion: str = ""  # the message of the scoring that had no champion
    reports: dict[str, pipeline.Report] = field(default_factory=dict)
    predictions: dict[str, pd.DataFrame] = field(default_factory=dict)  # after each step
    aliases: dict[str, dict] = field(default_factory=dict)  # champion/challenger versions after each step
    profile: pd.DataFrame | None = None  # customer_360's churn columns after the replacement
    holdout: pd.DataFrame | None = None  # the holdout cutoff's features and labels the gate judged on


def _predictions(values: dict) -> pd.DataFrame:
    found = frame(
        values,
        f"select customer_id, churn_probability, model_version from ml.churn_predictions where model_name = '{MODEL}'",
    )  # the lapsed buyers' rows are a rule's (ml/lapsed.py)
    return found.sort_values("customer_id").reset_index(drop=True)


def _aliases(values: dict) -> dict:
    with env(values):
        mlc = registry.client(settings())
        found = {a: registry.version_by_alias(mlc, MODEL, a) for a in ("champion", "challenger")}
    return {a: int(v.version) if v else None for a, v in found.items()}


def _step(story: Story, name: str, spec: dict | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Train with `spec` (None: no training), gate, score; keep what each step left."""
    cfg = settings()
    if spec is not None:
        monkeypatch.setattr(churn, "candidates", lambda: spec)
        story.reports[f"{name} train"] = pipeline.train(cfg, "churn")
    story.reports[f"{name} gate"] = pipeline.gate(cfg, "churn")
    story.reports[f"{name} score"] = pipeline.score(cfg, "churn")
    story.predictions[name], story.aliases[name] = _predictions(story.values), _aliases(story.values)


@pytest.fixture(scope="module")
def story(ml_built, tmp_path_factory) -> Iterator[Story]:
    values = ml_env(ml_built["C360_TARGET"], tmp_path_factory.mktemp("gate"), f"c360_test_{uuid.uuid4().hex[:8]}")
    with fork(ml_built, values), env(values), pytest.MonkeyPatch.context() as monkeypatch:
        assert not registry.store_exists(settings()), "the copy starts with an empty MLflow store"
        told = Story(values)
        told.predictions["before"] = _predictions(values)
        with connect(settings()) as wh:
            told.holdout = feats.load(wh, "holdout", labels=True)
        with pytest.raises(pipeline.MLError) as no_champion:
            pipeline.score(settings(), "churn")
        told.no_champion = str(no_champion.value)
        told.predictions["after refusal"] = _predictions(values)
        _step(told, "first", STUMP, monkeypatch)
        _step(told, "better", LOGISTIC, monkeypatch)
        assert materialize_all("key:marts/customer_360")
        told.profile = frame(values, "select customer_id, churn_probability from marts.customer_360 "
                                     "where churn_probability is not null").sort_values("customer_id")  # fmt: skip
        _step(told, "worse", DEPTH_TWO, monkeypatch)
        # a challenger trained while web data was there, judged when the holdout has none of a feature it needs
        monkeypatch.setattr(churn, "candidates", lambda: WEAKER_PENALTY)
        told.reports["no data train"] = pipeline.train(settings(), "churn")
        with connect(settings()) as wh:
            wh.execute("update ml.customer_features set sessions_count = null where cutoff_role = 'holdout'")
        told.reports["no data gate"] = pipeline.gate(settings(), "churn")
        told.aliases["no data"] = _aliases(values)
        yield told


def _holdout_auc(story: Story, version: str) -> float:
    """The holdout ROC AUC of a registered version, recomputed here from the features and labels the gate read."""
    holdout = story.holdout
    with env(story.values):
        mlc = registry.client(settings())
        columns = mlc.get_model_version(MODEL, version).tags["c360.features"].split(",")
        model = registry.load(MODEL, version)
    return roc_auc_score(holdout["is_churned"].astype(int), model.predict_proba(holdout[columns].astype(float))[:, 1])


def _run_metrics(values: dict, version: str) -> dict[str, float]:
    with env(values):
        mlc = registry.client(settings())
        return mlc.get_run(mlc.get_model_version(MODEL, version).run_id).data.metrics


def test_without_a_champion_scoring_fails_saying_how_to_train(story):
    assert "c360-churn has no champion" in story.no_champion
    assert "c360 materialize --select 'group:ml'" in story.no_champion
    before = story.predictions["before"]  # the copied warehouse's predictions, of ml_built's own champion
    assert len(before) > 300
    pd.testing.assert_frame_equal(story.predictions["after refusal"], before)  # left as they were
    first = story.reports["first gate"]
    assert (first.status, first.version, first.champion_version) == ("promoted", 1, 1)
    assert "no champion yet" in first.detail


def test_a_better_challenger_replaces_the_champion_and_its_predictions_reach_customer_360(story):
    report = story.reports["better gate"]
    assert (report.status, report.version, report.champion_version) == ("promoted", 2, 2)
    assert story.aliases["first"]["champion"] == 1 and story.aliases["better"]["champion"] == 2
    assert set(story.predictions["first"]["model_version"]) == {1}
    assert set(story.predictions["better"]["model_version"]) == {2}
    assert not story.predictions["better"]["churn_probability"].equals(story.predictions["first"]["churn_probability"])
    shown = dict(zip(story.profile["customer_id"], story.profile["churn_probability"], strict=True))
    scored = dict(zip(story.predictions["better"]["customer_id"], story.predictions["better"]["churn_probability"],
                      strict=True))  # fmt: skip
    assert shown == pytest.approx(scored, abs=1e-12)
    # the figures the gate compared are the holdout AUCs, recomputed here; the better one clears the margin
    new, old = _holdout_auc(story, "2"), _holdout_auc(story, "1")
    assert report.metrics == pytest.approx({"challenger": new, "champion": old}, abs=1e-12)
    logged = _run_metrics(story.values, "2")
    assert logged["gate_challenger_metric"] == pytest.approx(new, abs=1e-12)
    assert logged["gate_champion_metric"] == pytest.approx(old, abs=1e-12)
    assert logged["roc_auc"] == pytest.approx(new, abs=1e-12)  # the training run's own holdout figure
    assert new >= old * 1.005  # churn's margin (ml/catalog.py)


def test_a_worse_challenger_is_registered_with_the_reason_and_changes_nothing(story):
    report = story.reports["worse gate"]
    assert (report.status, report.version, report.champion_version) == ("kept", 3, 2)
    assert story.aliases["worse"] == {"champion": 2, "challenger": None}
    new, old = _holdout_auc(story, "3"), _holdout_auc(story, "2")
    assert new < old * 1.005
    with env(story.values):
        tag = registry.client(settings()).get_model_version(MODEL, "3").tags["c360.gate_decision"]
    assert tag.startswith("rejected: challenger") and f"{new:.4f}" in tag and f"{old:.4f}" in tag
    assert _run_metrics(story.values, "3")["gate_challenger_metric"] == pytest.approx(new, abs=1e-12)
    before, after = story.predictions["better"], story.predictions["worse"]
    pd.testing.assert_frame_equal(after, before)  # same customers, probabilities and model version


def test_a_challenger_whose_features_have_no_data_is_refused(story):
    trained, gated = story.reports["no data train"], story.reports["no data gate"]
    assert trained.status == "trained" and "sessions_count" in trained.info["features"]
    assert gated.status == "refused" and "sessions_count" in gated.detail
    assert story.aliases["no data"] == {"champion": 2, "challenger": None}
    with env(story.values):
        tag = registry.client(settings()).get_model_version(MODEL, str(trained.version)).tags["c360.gate_decision"]
    assert tag.startswith("refused") and "sessions_count" in tag
