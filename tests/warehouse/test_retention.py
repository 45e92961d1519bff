"""Retention deletes the raw rows past a source's policy, logs it, and leaves the models' aggregates."""

from __future__ import annotations

import datetime as dt

from c360_core.settings import settings
from c360_core.warehouse import connect
from governance.retention import Policy, apply_retention, load_policies
from tests.simulator.readers import all_records
from tests.warehouse.conftest import AS_OF, env, landing_of


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
