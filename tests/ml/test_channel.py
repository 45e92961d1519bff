"""The next-best-channel model in the pipeline, on each target: its published choices recomputed here from the
customers' visits (marts.web_sessions, checked against the files in tests/dbt) with the champion's logged
prior strength, customer_360's column, and its agreement with the simulator's planted responsive channel
(customers_truth.csv) against the "most frequent channel" baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from c360_core.settings import settings
from ml import registry
from tests.support.ml_warehouse import ML_AS_OF
from tests.support.warehouse import env, frame, landing_of

END = pd.Timestamp(ML_AS_OF) + pd.Timedelta(days=1)


def visits(values: dict) -> pd.DataFrame:
    found = frame(values, "select session_id, customer_id, traffic_channel, session_started_at, orders_placed_count "
                          "from marts.web_sessions where customer_id is not null")  # fmt: skip
    found["visited_at"] = pd.to_datetime(found["session_started_at"])
    found["converted"] = found["orders_placed_count"] > 0
    return found[found["visited_at"] < END]


def chosen(values: dict) -> pd.DataFrame:
    return frame(values, "select * from ml.channel_recommendations").set_index("customer_id")


def test_each_choice_is_the_channel_of_highest_shrunk_conversion(ml_built):
    seen = visits(ml_built)
    with env(ml_built):
        mlc = registry.client(settings())
        run = mlc.get_run(mlc.get_model_version_by_alias("c360-channel", "champion").run_id)
    a = float(run.data.params["prior_strength"])
    rates = seen.groupby("traffic_channel")["converted"].mean()
    found = chosen(ml_built)
    assert set(found.index) == set(seen["customer_id"])
    recent = seen[seen["visited_at"] >= END - pd.Timedelta(days=90)].groupby("customer_id").size()
    for customer, mine in seen.groupby("customer_id"):
        per = mine.groupby("traffic_channel")["converted"].agg(["size", "sum"]).reindex(rates.index, fill_value=0)
        rate = (per["sum"] + a * rates) / (per["size"] + a)
        best = rate[rate == rate.max()].index.min()
        row = found.loc[customer]
        assert row.next_best_channel == best, customer
        assert row.visit_conversion_rate == pytest.approx(rate[best], abs=1e-6)
        v = max(recent.get(customer, 0) * 30 / 90, 1.0)
        assert row.purchase_probability_30d == pytest.approx(1 - (1 - rate[best]) ** v, abs=1e-6)
        assert row.visits_through_channel == per.loc[best, "size"]


def test_customer_360_carries_the_choice(ml_built):
    found = chosen(ml_built)
    profile = frame(ml_built, "select customer_id, next_best_channel, next_best_channel_probability "
                              "from marts.customer_360").set_index("customer_id")  # fmt: skip
    shown = profile.dropna(subset=["next_best_channel"])
    assert shown["next_best_channel"].to_dict() == found["next_best_channel"].to_dict()
    np.testing.assert_allclose(shown.loc[found.index, "next_best_channel_probability"],
                               found["purchase_probability_30d"], atol=1e-9)  # fmt: skip


def test_the_choice_finds_the_planted_channel_far_more_often_than_the_most_frequent_one(ml_built):
    truth = pd.read_csv(landing_of(ml_built) / "_manifest" / "customers_truth.csv").set_index("customer_id")
    seen = visits(ml_built)
    counts = seen.groupby("customer_id").size()
    judged = counts[counts >= 3].index
    assert len(judged) > 300
    counted = seen.groupby(["customer_id", "traffic_channel"]).size().rename("n").reset_index()
    frequent = counted.sort_values(["customer_id", "n", "traffic_channel"], ascending=[True, False, True])
    frequent = frequent.drop_duplicates("customer_id").set_index("customer_id")["traffic_channel"]
    planted = truth.loc[judged, "responsive_channel"]
    model = float((chosen(ml_built).loc[judged, "next_best_channel"] == planted).mean())
    baseline = float((frequent.loc[judged] == planted).mean())
    print(f"next-best channel: {model:.3f} agree with the planted channel, most frequent {baseline:.3f}")
    assert model >= baseline + 0.10
