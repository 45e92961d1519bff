"""The planted behaviour is learnable from the files alone."""

import csv
import datetime as dt

import duckdb
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from tests.simulator.conftest import make

END = dt.date(2025, 12, 31)
CUTOFF = END + dt.timedelta(days=1) - dt.timedelta(days=90)
ORDERS = """(select * from read_json('{root}/shop/orders/*.jsonl', format='newline_delimited')
             qualify row_number() over (partition by order_id order by updated_at desc) = 1)"""


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    cfg = make(tmp_path_factory.mktemp("year"), customers=3000, seed=11, start=dt.date(2025, 1, 1), end=END)
    return cfg, duckdb.connect()


def test_churn_is_learnable_from_rfm(year):
    """Logistic regression on recency/frequency/monetary at a cutoff predicts 90-day churn."""
    cfg, con = year
    counted = f"(select * from {ORDERS.format(root=cfg.out)} where order_status not in ('Canceled', 'Returned'))"
    rfm = con.execute(f"""
        with before as (
            select customer_id, count(*) as frequency, sum(total_amount) as monetary,
                   date '{CUTOFF}' - max(order_date::timestamp)::date as recency
            from {counted} where order_date::timestamp < date '{CUTOFF}' group by customer_id),
        after as (select distinct customer_id from {counted} where order_date::timestamp >= date '{CUTOFF}')
        select recency, frequency, monetary, (after.customer_id is null)::int as churned
        from before left join after using (customer_id)""").fetchnumpy()
    x = np.column_stack([rfm["recency"], np.log1p(rfm["frequency"]), np.log1p(rfm["monetary"])])
    y = rfm["churned"]
    assert len(y) > 1000 and 0.2 < y.mean() < 0.8
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    assert auc >= 0.75, auc


def test_expecting_parents_shift_to_the_baby_category(year):
    cfg, con = year
    with open(cfg.out / "_manifest" / "customers_truth.csv") as f:
        expecting = {r["customer_id"]: r["expecting_since"] for r in csv.DictReader(f) if r["expecting_since"]}
    assert len(expecting) > 30
    con.execute("create or replace temp table expecting (customer_id varchar, since date)")
    con.executemany("insert into expecting values (?, ?)", list(expecting.items()))
    share = con.execute(f"""
        select (e.customer_id is not null and o.order_date::timestamp >= e.since) as is_expecting,
               avg((p.product_category = 'Baby & Maternity')::int) as baby_share
        from read_json('{cfg.out}/shop/order_line_items/*.jsonl') li
        join {ORDERS.format(root=cfg.out)} o using (order_id)
        join (select distinct product_id, product_category from read_json('{cfg.out}/catalog/products/*.json')) p
            using (product_id)
        left join expecting e using (customer_id)
        group by 1""").fetchall()
    share = dict(share)
    assert share[True] > 5 * share[False], share


def test_sessions_cluster_before_purchases(year):
    cfg, con = year
    rate = con.execute(f"""
        with sessions as (
            select distinct entity_id as customer_id, session_id, min(activity_ts::timestamp)::date as day
            from read_json('{cfg.out}/web/events/*/*/events.jsonl')
            where entity_id is not null and event_action <> 'order_placed'
            group by all),
        buys as (select customer_id, min(order_date::timestamp)::date as day
                 from {ORDERS.format(root=cfg.out)} group by all having min(order_date) > '2025-02-01')
        select count(*) filter (where s.day between b.day - 3 and b.day - 1) / (3.0 * count(distinct b.customer_id)),
               count(*) filter (where s.day between b.day - 33 and b.day - 4) / (30.0 * count(distinct b.customer_id))
        from buys b left join sessions s using (customer_id)""").fetchone()
    before_purchase, baseline = rate
    assert before_purchase > 2 * baseline, rate
