"""Retention deletes the raw rows past a source's policy, logs it, and leaves the models' aggregates."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pandas as pd
import yaml

from c360_core.settings import settings
from c360_core.warehouse import connect
from governance.retention import Policy, apply_retention, load_policies
from tests.support.expected import latest_orders
from tests.support.readers import all_records, files
from tests.support.warehouse import AS_OF, env, landing_of, materialize_all

POLICY_FILE = Path(__file__).resolve().parents[2] / "governance" / "retention.yml"  # the committed policies


def count(values: dict, sql: str) -> int:
    with env(values), connect(settings()) as wh:
        return wh.query(sql)[1][0][0]


def test_old_web_events_go_and_their_sessions_stay(forked):
    days = 30
    cutoff = dt.datetime.combine(AS_OF - dt.timedelta(days=days), dt.time())
    events = all_records(landing_of(forked), "web_events")
    old = sum(1 for e in events if dt.datetime.strptime(e["activity_ts"], "%Y-%m-%dT%H:%M:%SZ") < cutoff)
    assert 0 < old < len(events)
    sessions = count(forked, "select count(*) from marts.web_sessions")

    with env(forked):
        removed = apply_retention(settings(), [Policy("web_events", "activity_ts", days)])
    assert [(r.source, r.cutoff, r.rows) for r in removed] == [("web_events", cutoff, old)]
    assert count(forked, "select count(*) from raw.web_events") == len(events) - old
    assert count(forked, f"select count(*) from raw.web_events where activity_ts < '{cutoff}'") == 0
    assert count(forked, "select count(*) from marts.web_sessions") == sessions  # the aggregates stay
    assert count(forked, "select sum(rows_removed) from audit.retention_runs") == old


def test_the_default_policy_keeps_everything(forked):
    assert all(p.days is None for p in load_policies())
    before = count(forked, "select count(*) from raw.web_events")
    with env(forked):
        assert apply_retention(settings()) == []
    assert count(forked, "select count(*) from raw.web_events") == before


POLICY = {"web_events": 20, "orders": 20, "transactions": 20, "customers": 10, "products": 10}


def _kept(records: list[dict], column: str, cutoff: dt.datetime, key: str | None) -> int:
    """Rows at or after the cutoff; with a key (keep_latest), also each key's latest row, however old."""
    stamp = lambda r: dt.datetime.strptime(r[column], "%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    kept = sum(1 for r in records if stamp(r) >= cutoff)
    if key:
        newest: dict[str, dt.datetime] = {}
        for r in records:
            newest[r[key]] = max(newest.get(r[key], stamp(r)), stamp(r))
        kept += sum(1 for at in newest.values() if at < cutoff)
    return kept


def test_the_policies_of_the_yaml_through_the_asset_then_a_rebuild(forked, tmp_path):
    """Every source the YAML names, rejects included, through the Dagster asset; then a dbt build: the
    incremental models keep what they built, customer_360 keeps every customer, and its order figures follow
    the orders that are left."""
    landing = landing_of(forked)
    policy = yaml.safe_load(POLICY_FILE.read_text())
    for source, days in POLICY.items():
        policy["sources"][source]["days"] = days
    (tmp_path / "retention.yml").write_text(yaml.safe_dump(policy))
    cutoffs = {s: dt.datetime.combine(AS_OF - dt.timedelta(days=d), dt.time()) for s, d in POLICY.items()}
    keys = {"customers": "customer_id", "products": "product_id"}
    columns = {s: p["column"] for s, p in policy["sources"].items()}
    want = {s: _kept(all_records(landing, s), columns[s], cutoffs[s], keys.get(s)) for s in POLICY}
    # the lines and payments of the orders that go, go with them (follows: orders)
    placed = {o["order_id"]: dt.datetime.strptime(o["order_date"], "%Y-%m-%dT%H:%M:%SZ")
              for o in all_records(landing, "orders")}  # fmt: skip
    gone = {o for o, at in placed.items() if at < cutoffs["orders"]}
    want["order_line_items"] = sum(1 for r in all_records(landing, "order_line_items") if r["order_id"] not in gone)
    paid = [(r["order_id"], dt.datetime.strptime(r["transaction_ts"], "%Y-%m-%dT%H:%M:%SZ"))
            for r in all_records(landing, "transactions")]  # fmt: skip
    want["transactions"] = sum(1 for order, at in paid if order not in gone and at >= cutoffs["transactions"])
    untouched = {"brands": len(all_records(landing, "brands"))}
    old_files, new_files = {}, {}
    with env(forked), connect(settings()) as wh:  # a reject of an old file and of a new one, per source
        for source in POLICY:
            dated = sorted(str(p.relative_to(landing)) for p in files(landing, source))
            old_files[source], new_files[source] = dated[0], dated[-1]
            for n, rel in enumerate((dated[0], dated[-1])):
                wh.execute(f"insert into raw.{source}__rejects values (?, ?, ?, ?, ?, ?)",
                           ["retention-test", rel, 1000 + n, "{}", "planted", dt.datetime(2026, 1, 1)])  # fmt: skip
        before = {t: wh.fetch_frame(f"select * from marts.{t}") for t in ("web_sessions", "orders")}
        web = wh.fetch_frame("select customer_id, sessions_count, product_views_count, favorites_count, "
                             "cart_adds_count, engagement_minutes from marts.customer_360 order by 1")  # fmt: skip
        total = {s: wh.query(f"select count(*) from raw.{s}")[1][0][0] for s in want}
    with env({**forked, "C360_RETENTION": str(tmp_path / "retention.yml")}):
        assert materialize_all("key:governance/retention")  # the Dagster asset, reading the file
    with env(forked), connect(settings()) as wh:
        for source, kept in want.items():
            assert wh.query(f"select count(*) from raw.{source}")[1][0][0] == kept, source
            _, [(rows, rejects)] = wh.query("select sum(rows_removed), sum(rejects_removed) from audit.retention_runs "
                                            "where source = ?", [source])  # fmt: skip
            assert (rows, rejects) == (total[source] - kept, 1 if source in POLICY else 0), source
            assert 0 < kept < total[source], f"{source}: the policy removes some rows and keeps some"
        for source in POLICY:
            _, kept = wh.query(f"select _source_file from raw.{source}__rejects where _load_id = 'retention-test'")
            assert kept == [(new_files[source],)], source
        for source, n in untouched.items():
            assert wh.query(f"select count(*) from raw.{source}")[1][0][0] == n, source
    with env(forked):
        assert materialize_all()  # the models again, incrementally
    with env(forked), connect(settings()) as wh:
        for table, frame_before in before.items():  # incremental: what they built stays
            after = wh.fetch_frame(f"select * from marts.{table}")
            key = "session_id" if table == "web_sessions" else "order_id"
            pd.testing.assert_frame_equal(after.sort_values(key).reset_index(drop=True),
                                          frame_before.sort_values(key).reset_index(drop=True))  # fmt: skip
        pd.testing.assert_frame_equal(wh.fetch_frame(
            "select customer_id, sessions_count, product_views_count, favorites_count, cart_adds_count, "
            "engagement_minutes from marts.customer_360 order by 1"), web)  # fmt: skip
        _, orders = wh.query("select customer_id, orders_count from marts.customer_360 where orders_count > 0")
    crm = {r["customer_id"] for r in all_records(landing, "customers")}
    assert count(forked, "select count(*) from marts.customer_360") == len(crm)  # keep_latest: nobody leaves
    recent = Counter(o["customer_id"] for o in latest_orders(landing).values()
                     if o["order_status"] not in ("Canceled", "Returned") and o["customer_id"] in crm
                     and dt.datetime.strptime(o["order_date"], "%Y-%m-%dT%H:%M:%SZ") >= cutoffs["orders"])  # fmt: skip
    assert dict(orders) == dict(recent)
