"""ml/recommend.py on hand-made data: the association rules recomputed with pandas, the exclusions, the
reasons, and the out-of-time metrics worked by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from ml import recommend


def baskets(seed: int = 5, orders: int = 400) -> pd.DataFrame:
    """Orders of 1-4 products out of 12, where P01 and P02 go together more often than chance."""
    rng = np.random.default_rng(seed)
    rows = []
    for o in range(orders):
        size = rng.integers(1, 5)
        picked = set(rng.choice([f"P{i:02d}" for i in range(12)], size=size, replace=False))
        if "P01" in picked and rng.random() < 0.7:
            picked.add("P02")
        rows += [(f"C{o:03d}", f"O{o:04d}", p) for p in sorted(picked)]  # one order per customer
    return pd.DataFrame(rows, columns=["customer_id", "order_id", "product_id"])


def test_rules_equal_support_confidence_and_lift_counted_order_by_order():
    items = baskets()
    items = pd.concat([items, items.head(3)])  # a product twice in one order counts once
    rules = recommend.association_rules(items, min_orders=2).set_index(["antecedent", "consequent"])
    sets = items.groupby("order_id")["product_id"].apply(set)
    n = len(sets)
    expected = {}
    for x, y in itertools.permutations(sorted(items["product_id"].unique()), 2):
        both = sum(1 for s in sets if x in s and y in s)
        if both >= 2:
            with_x = sum(1 for s in sets if x in s)
            with_y = sum(1 for s in sets if y in s)
            expected[(x, y)] = (both, both / n, both / with_x, (both / with_x) / (with_y / n))
    assert set(rules.index) == set(expected)
    for key, (both, support, confidence, lift) in expected.items():
        row = rules.loc[key]
        assert row["orders"] == both
        assert row["support"] == pytest.approx(support)
        assert row["confidence"] == pytest.approx(confidence)
        assert row["lift"] == pytest.approx(lift)
    assert rules.loc[("P01", "P02"), "lift"] > 1.5  # the planted pair stands out


def test_nothing_bought_before_unless_bought_again_and_nothing_off_the_catalogue():
    items = baskets()
    # P03 is bought again by most of its buyers; P11 has left the catalogue
    again = pd.DataFrame([(c, f"R{c}", "P03") for c in items.loc[items["product_id"] == "P03", "customer_id"]],
                         columns=["customer_id", "order_id", "product_id"])  # fmt: skip
    purchases = pd.concat([items, again], ignore_index=True)
    catalog = pd.DataFrame({"product_id": [f"P{i:02d}" for i in range(11)],
                            "product_name": [f"Product {i}" for i in range(11)],
                            "product_category": ["A" if i < 6 else "B" for i in range(11)]})  # fmt: skip
    views = pd.DataFrame({"customer_id": ["C001", "C001", "C999"], "product_id": ["P07", "P08", "P09"],
                          "event_action": ["product_view", "add_to_cart", "product_view"]})  # fmt: skip
    model = recommend.fit(purchases, views, catalog)
    assert "P03" in set(model.products[model.repeat])
    customers = ["C001", "C002", "C999"]
    recs = recommend.recommend(model, purchases, views, customers, k=5)
    owned = purchases.groupby("customer_id")["product_id"].apply(set)
    for customer, top in recs.groupby("customer_id"):
        assert list(top["rank"]) == list(range(1, len(top) + 1)) and len(top) == 5
        assert set(top["product_id"]) <= set(catalog["product_id"])  # P11 never
        bought = owned.get(customer, set()) - {"P03"}
        assert not bought & set(top["product_id"]), customer
        assert top["reason"].str.len().gt(0).all()
    assert set(recs["customer_id"]) == set(customers)  # a browser without an order gets a list too
    # the customer's own cart add is the strongest reason for that product
    c001 = recs[recs["customer_id"] == "C001"].set_index("product_id")["reason"]
    assert c001["P08"] == "you had it in your cart"  # C001 did not buy P08


def test_the_metrics_match_a_worked_example():
    recs = pd.DataFrame({"customer_id": ["A"] * 3 + ["B"] * 3, "rank": [1, 2, 3] * 2,
                         "product_id": ["x", "y", "z", "x", "y", "z"]})  # fmt: skip
    truth = {"A": {"y"}, "B": {"x", "q"}, "C": {"x"}}  # C has no recommendations: zero
    found = recommend.judge(recs, truth, k=3)
    assert found["recall_at_3"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert found["precision_at_3"] == pytest.approx((1 / 3 + 1 / 3 + 0) / 3)
    ndcg_a = (1 / math.log2(3)) / 1
    ndcg_b = 1 / (1 + 1 / math.log2(3))
    assert found["ndcg_at_3"] == pytest.approx((ndcg_a + ndcg_b + 0) / 3)


def test_the_next_order_is_the_first_after_the_cutoff():
    after = pd.DataFrame({"customer_id": ["A", "A", "A", "B"], "order_id": ["o2", "o1", "o1", "o3"],
                          "product_id": ["p9", "p1", "p2", "p5"],
                          "ordered_at": pd.to_datetime(["2026-05-03", "2026-05-01", "2026-05-01",
                                                        "2026-06-01"])})  # fmt: skip
    assert recommend.next_orders(after) == {"A": {"p1", "p2"}, "B": {"p5"}}
