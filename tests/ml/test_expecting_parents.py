"""The Expecting Parents audience finds the simulator's planted expecting parents (customers_truth.csv).

The truth: parents expecting or with a newborn under six months on the as-of date, who showed at
least 3 product interests (views, favourites, cart adds, purchased lines) in the last 180 days since
their pregnancy began: a customer who does not interact then cannot be found by any rule on behaviour
(what they did before the pregnancy cannot show it). Counted here from the files and marts."""

from __future__ import annotations

import csv
import datetime as dt

import pandas as pd

from tests.ml.test_pipeline import frame
from tests.support.ml_warehouse import ML_AS_OF
from tests.support.warehouse import landing_of

INTEREST = """
    select entity_id as customer_id, activity_ts as at from marts.product_views
    union all select entity_id, activity_ts from marts.favorites
    union all select entity_id, activity_ts from marts.cart_adds
    union all select customer_id, ordered_at from marts.orders_enriched
"""


def truth_rows(built: dict) -> list[dict[str, str]]:
    with open(landing_of(built) / "_manifest" / "customers_truth.csv", newline="") as f:
        return list(csv.DictReader(f))


def planted(built: dict) -> set[str]:
    rows = truth_rows(built)

    def in_phase(row: dict[str, str]) -> bool:  # a child not yet born has no birth date
        born = dt.date.fromisoformat(row["child_born_on"]) if row["child_born_on"] else dt.date.max - dt.timedelta(181)
        return dt.date.fromisoformat(row["expecting_since"]) <= ML_AS_OF < born + dt.timedelta(days=180)

    return {r["customer_id"] for r in rows if r["expecting_since"] and in_phase(r)}


def test_expecting_parents_recall_at_least_80_percent(ml_built):
    interest = frame(ml_built, INTEREST)
    day = pd.to_datetime(interest["at"]).dt.date
    since = {r["customer_id"]: dt.date.fromisoformat(r["expecting_since"]) for r in truth_rows(ml_built)
             if r["expecting_since"]}  # fmt: skip
    began = interest["customer_id"].map(since)
    recent = interest[(day > ML_AS_OF - dt.timedelta(days=180)) & (day <= ML_AS_OF) & began.notna() & (day >= began)]
    active = set(recent.groupby("customer_id").size().loc[lambda n: n >= 3].index)
    truth = planted(ml_built) & active
    found = set(frame(ml_built, "select customer_id from marts.customer_segments "
                                "where segment_name = 'Expecting Parents'")["customer_id"])  # fmt: skip
    assert len(truth) >= 10
    recall = len(found & truth) / len(truth)
    precision = len(found & planted(ml_built)) / len(found)
    print(
        f"Expecting Parents: recall {recall:.2f} ({len(found & truth)}/{len(truth)}), precision {precision:.2f} "
        f"({len(found & planted(ml_built))}/{len(found)})"
    )
    assert recall >= 0.8
    # Precision: 55 of the 1,500 customers (3.7%) are planted parents in phase on the as-of date, so an audience
    # of everyone, or of customers drawn at random, would score about 0.04. The rule scores 0.74 (32 of 43) on
    # this seed; 0.5 is thirteen times the base rate and leaves room for a few more false positives, while an
    # audience of all active customers (~1,200) would fail it by far.
    assert precision >= 0.5
    everyone = set(frame(ml_built, "select customer_id from marts.customer_360")["customer_id"])
    assert len(everyone & planted(ml_built)) / len(everyone) < 0.1  # the base rate the comment above cites
