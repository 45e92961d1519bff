"""A company with only a CRM and a shop: no web analytics, no demographics. The whole pipeline still
runs, the models train on the groups that have data (and say which), and churn still beats recency."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from c360_core.settings import settings
from ml import registry
from ml.features import GROUPS
from tests.ml.test_pipeline import churn_aucs, frame
from tests.support.ml_warehouse import build
from tests.support.warehouse import env

DEMOGRAPHICS = ["gender", "date_of_birth", "education_level", "marital_status", "number_of_children",
                "occupation", "hobbies", "annual_income"]  # fmt: skip


def strip(landing: Path) -> None:
    """Remove the web analytics export and blank every demographic field of the CRM export."""
    shutil.rmtree(landing / "web")
    for path in sorted((landing / "crm" / "customers").glob("*.csv")):
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            header, rows = reader.fieldnames, [{**r, **dict.fromkeys(DEMOGRAPHICS, "")} for r in reader]
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)


@pytest.fixture(scope="module")
def sparse_built(ml_landing, tmp_path_factory) -> dict[str, str]:
    source = tmp_path_factory.mktemp("sparse_source") / "landing"
    shutil.copytree(ml_landing, source)
    strip(source)
    data_dir = tmp_path_factory.mktemp("sparse")
    shutil.rmtree(data_dir)
    data_dir.mkdir()
    return build(source, data_dir, "duckdb")


def test_the_pipeline_runs_and_scores_without_web_or_demographics(sparse_built):
    assert frame(sparse_built, "select count(*) as n from raw.web_events")["n"][0] == 0
    profile = frame(sparse_built, "select churn_probability, predicted_clv, cluster_id, age from marts.customer_360")
    assert profile["age"].isna().all()
    for column in ("churn_probability", "predicted_clv", "cluster_id"):
        assert profile[column].notna().sum() > 100, column


def test_the_runs_say_which_groups_were_used_and_fill_nothing(sparse_built):
    with env(sparse_built):
        mlc = registry.client(settings())
        for family in ("c360-churn", "c360-clv"):
            [run] = mlc.search_runs([mlc.get_experiment_by_name(family).experiment_id], max_results=1)
            assert run.data.params["feature_groups_absent"] == "web"
            assert set(run.data.params["feature_groups_used"].split(",")) == {"rfm", "trends", "crm", "preferences"}
            features = mlc.get_model_version_by_alias(family, "champion").tags["c360.features"].split(",")
            # no web feature and no demographic one was filled in with a made-up value
            assert not set(features) & set(GROUPS["web"])
            assert not set(features) & {"age", "number_of_children", "annual_income", "is_married"}
            assert {"recency_days", "tenure_days", "loyalty_tier"} <= set(features)


def test_churn_still_beats_recency_alone(sparse_built):
    champion, recency = churn_aucs(sparse_built)
    assert champion > recency
