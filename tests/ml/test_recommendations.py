"""The recommender in the pipeline, on each target: its published tables recomputed here from the orders and
the product events (pandas), its customer_360 column, and its out-of-time figure against a popularity
baseline recomputed here."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import pandas as pd
import pytest

from c360_core.settings import settings
from ml import registry
from tests.support.readers import files, read_records
from tests.support.warehouse import env, frame, landing_of

K = 10


def counted_orders(values: dict, before: str) -> pd.DataFrame:
    """Counted order lines placed before a date (marts.orders_enriched, verified against the landing files)."""
    return frame(values, "select customer_id, order_id, product_id, ordered_at from marts.orders_enriched "
                         f"where is_counted and ordered_at < timestamp '{before}'")  # fmt: skip


def cutoff(values: dict, role: str) -> str:
    found = frame(values, f"select cutoff_date from ml.ml_cutoffs where cutoff_role = '{role}'")
    return str(pd.Timestamp(found["cutoff_date"][0]).date())


def repeat_products(orders: pd.DataFrame) -> set:
    """Products at least a fifth of whose buyers bought them in two or more orders (docs/ml.md)."""
    per_buyer = orders.groupby(["product_id", "customer_id"])["order_id"].nunique()
    share = (per_buyer >= 2).groupby(level="product_id").mean()
    return set(share[share >= 0.2].index)


def test_the_associations_equal_support_confidence_and_lift_recounted_from_the_orders(ml_built):
    orders = counted_orders(ml_built, cutoff(ml_built, "score"))
    baskets = orders.groupby("order_id")["product_id"].apply(frozenset)
    n = len(baskets)
    alone = Counter(p for basket in baskets for p in basket)
    together = Counter(pair for basket in baskets for pair in itertools.permutations(sorted(basket), 2))
    expected = {pair: c for pair, c in together.items() if c >= 2}
    found = frame(ml_built, "select antecedent_product_id as x, consequent_product_id as y, orders_together, "
                            "support, confidence, lift from ml.product_associations")  # fmt: skip
    assert len(found) == len(expected) > 0
    for row in found.itertuples():
        both = expected[(row.x, row.y)]
        assert row.orders_together == both
        assert row.support == pytest.approx(both / n)
        assert row.confidence == pytest.approx(both / alone[row.x])
        assert row.lift == pytest.approx((both / alone[row.x]) / (alone[row.y] / n))


def listed(landing) -> tuple[set, set]:
    """The products of the newest weekly catalogue file (each is the whole catalogue), and of every file."""
    newest, ever = set(), set()
    for path in sorted(files(landing, "products"), key=lambda p: p.stem):
        newest = {r["product_id"] for _, r in read_records(path, "products")}
        ever |= newest
    return newest, ever


def test_marts_products_marks_the_products_the_newest_catalogue_file_no_longer_lists(ml_built):
    newest, ever = listed(landing_of(ml_built))
    products = frame(ml_built, "select product_id, is_discontinued from marts.products")
    assert set(products["product_id"]) == ever
    assert set(products.loc[products["is_discontinued"], "product_id"]) == ever - newest
    assert len(ever - newest) > 0  # the simulator discontinues a few: the exclusion below is exercised


def test_nothing_recommended_is_bought_before_unless_bought_again_or_discontinued(ml_built):
    today = cutoff(ml_built, "score")
    recs = frame(ml_built, "select customer_id, recommendation_rank, product_id, reason "
                           "from ml.product_recommendations")  # fmt: skip
    catalogue, ever = listed(landing_of(ml_built))
    orders_of_gone = frame(ml_built, "select count(*) as n from marts.orders_enriched where product_id in ("
                           + ",".join(f"'{p}'" for p in sorted(ever - catalogue)) + ")")  # fmt: skip
    assert orders_of_gone["n"][0] > 0  # discontinued products were bought before: they could be recommended
    orders = counted_orders(ml_built, today)
    again = repeat_products(orders)
    owned = orders.groupby("customer_id")["product_id"].apply(set)
    assert set(recs["product_id"]) <= catalogue
    for row in recs.itertuples():
        if row.product_id in owned.get(row.customer_id, set()):
            assert row.product_id in again, row
    # every customer with any history before today has exactly K, ranked 1..K, each with a reason
    events = frame(ml_built, f"select distinct customer_id from ml.ml_product_events where event_at < timestamp "
                             f"'{today}'")  # fmt: skip
    ranks = recs.groupby("customer_id")["recommendation_rank"].apply(sorted)
    assert set(ranks.index) == set(events["customer_id"])
    assert all(r == list(range(1, K + 1)) for r in ranks)
    assert recs["reason"].str.len().gt(0).all()


def test_customer_360_lists_each_customers_top_ten_in_order(ml_built):
    recs = frame(ml_built, "select customer_id, recommendation_rank, product_id from ml.product_recommendations")
    expected = recs.sort_values("recommendation_rank").groupby("customer_id")["product_id"].apply(list)
    profiles = frame(ml_built, "select customer_id, top_recommendations from marts.customer_360")
    listed = {r.customer_id: json.loads(r.top_recommendations) for r in profiles.itertuples()
              if pd.notna(r.top_recommendations)}  # fmt: skip
    assert listed == expected.to_dict()


def test_the_champion_beats_popularity_on_the_next_order_after_the_holdout(ml_built):
    """The champion's logged recall@10, recomputed here from its own lists for the holdout's customers, and a
    popularity baseline built here from the orders before the holdout cutoff."""
    holdout = cutoff(ml_built, "holdout")
    end = str((pd.Timestamp(holdout) + pd.Timedelta(days=90)).date())
    events = frame(ml_built, "select customer_id, product_id, event_action, order_id, event_at "
                             "from ml.ml_product_events")  # fmt: skip
    history = events[events["event_at"] < pd.Timestamp(holdout)]
    after = events[(events["event_at"] >= pd.Timestamp(holdout)) & (events["event_at"] < pd.Timestamp(end))
                   & (events["event_action"] == "purchase")]  # fmt: skip
    first = after.sort_values(["event_at", "order_id"]).drop_duplicates("customer_id")["order_id"]
    truth = {c: set(p) for c, p in after[after["order_id"].isin(first)].groupby("customer_id")["product_id"]
             if c in set(history["customer_id"])}  # fmt: skip
    assert len(truth) >= 50

    with env(ml_built):
        mlc = registry.client(settings())
        version = mlc.get_model_version_by_alias("c360-recommendations", "champion")
        logged = mlc.get_run(version.run_id).data.metrics
        model = registry.load_object("c360-recommendations", version.version)
    lists = model.predict(history[history["customer_id"].isin(truth)])
    top = lists.sort_values("rank").groupby("customer_id")["product_id"].apply(list)

    def recall(tops: dict) -> float:
        return sum(len(set(tops.get(c, [])[:K]) & want) / len(want) for c, want in truth.items()) / len(truth)

    champion = recall(top.to_dict())
    assert champion == pytest.approx(logged["recall_at_10"])
    bought = history[history["event_action"] == "purchase"]
    again = repeat_products(bought)
    owned = bought.groupby("customer_id")["product_id"].apply(set)
    ranking = bought.drop_duplicates(["order_id", "product_id"])["product_id"].value_counts()
    ranking = ranking.sort_index().sort_values(ascending=False, kind="stable").index  # ties by product id
    popular = {c: [p for p in ranking if p in again or p not in owned.get(c, set())][:K] for c in truth}
    assert champion > recall(popular) * 1.2, (champion, recall(popular))
