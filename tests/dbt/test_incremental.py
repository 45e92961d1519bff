"""Incremental equals full: 36 hourly web-event files delivered one by one, each loaded by the hourly
cycle (the day's partition, new files only), the incremental models refreshed between them, and both
days re-run, end exactly where a full refresh ends.

The incremental models are built after the first hour and refreshed after the second (a batch of one
hour), after 06:00 of the second day (a batch of 29 hours across the midnight, the first day's re-run
included: as when automation lags) and after the second day's re-run, which follows its last hour. Each
refresh starts dbt (~7 s), so there are few; the hourly loads between them are cheap (~0.6 s). Then the
models are rebuilt with --full-refresh and every row of every web model, and of customer_360, must be
the same.
Raw counts are checked against the landing files.
"""

from __future__ import annotations

import datetime as dt
import shutil

from c360_core.settings import settings
from c360_core.warehouse import connect
from landing import path_for
from tests.support.readers import read_records
from tests.support.warehouse import env, materialize_all

FIRST_HOUR = dt.datetime(2026, 1, 1)
HOURS = [FIRST_HOUR + dt.timedelta(hours=h) for h in range(36)]  # across a midnight
REPLAYED_DAYS = {23: "2026-01-01", 35: "2026-01-02"}  # re-run after these hours
REFRESHED = {1, 30, 35}  # the models refreshed after these hours (and built after the first)
WEB = 'key:"raw/web_events"'
# the models, not what hangs off them (ML, audiences, semantic tables have their own tests)
NOT_MODELS = 'group:ml or key:"marts/audience_assignments"+'
DOWNSTREAM = f"{WEB}+ and not {WEB} and not ({NOT_MODELS})"
MODELS = f"(group:staging or group:intermediate or group:marts) and not ({NOT_MODELS})"
COMPARED = [("staging", "stg_web__events"), ("intermediate", "int_web_activity_sessionized"),
            ("intermediate", "int_customer_activity_aggregated"), ("marts", "web_sessions"),
            ("marts", "product_views"), ("marts", "favorites"), ("marts", "cart_adds"),
            ("marts", "orders_placed"), ("marts", "customer_360")]  # fmt: skip


def hour_file(hour: dt.datetime) -> str:
    return path_for("web_events", hour.strftime("%Y-%m-%dT%H"))


def table_rows(wh, schema: str, name: str) -> list[tuple]:
    """Every row but the load timestamp (which says when, not what), floats rounded, sorted."""
    columns, rows = wh.query(f"select * from {schema}.{name}")
    keep = [i for i, c in enumerate(columns) if c != "_loaded_at"]
    clean = [tuple(round(r[i], 6) if isinstance(r[i], float) else r[i] for i in keep) for r in rows]
    return sorted(clean, key=repr)


def models_state() -> dict:
    with connect(settings()) as wh:
        return {f"{s}.{n}": table_rows(wh, s, n) for s, n in COMPARED}


def landing_events(landing) -> tuple[int, int]:
    """(records, unreadable lines) in the hourly files, read straight from the landing zone."""
    records = bad = 0
    for hour in HOURS:
        for _, record in read_records(landing / path_for("web_events", hour.strftime("%Y-%m-%dT%H")), "web_events"):
            records, bad = (records + 1, bad) if record is not None else (records, bad + 1)
    return records, bad


def test_hourly_files_one_by_one_then_replays_equal_a_full_refresh(fresh, tmp_path, instance):

    def run(select: str, day: str | None = None, **kw) -> None:
        assert materialize_all(select, f"{day}...{day}" if day else None, instance=instance, **kw), (select, day)

    held = tmp_path / "held"  # web files not delivered yet
    shutil.move(fresh.landing / "web", held)
    run(f"group:ingest and not {WEB}")  # every other source, whole period
    for i, hour in enumerate(HOURS):
        delivered = fresh.landing / hour_file(hour)
        delivered.parent.mkdir(parents=True)
        shutil.copy(held / hour_file(hour).removeprefix("web/"), delivered)
        run(WEB)  # what the hourly schedule runs: the day's partition, only its new file
        if i == 0:
            run(MODELS)  # the first build creates every model
        if i in REPLAYED_DAYS:  # a re-run of the day reads its files again and replaces the partition
            run(WEB, REPLAYED_DAYS[i])
        if i in REFRESHED:
            run(DOWNSTREAM)
    incremental = models_state()

    with connect(fresh) as wh:
        _, [(raw_rows, raw_files)] = wh.query("select count(*), count(distinct _source_file) from raw.web_events")
        _, [(rejects,)] = wh.query("select count(*) from raw.web_events__rejects")
        _, replays = wh.query(
            "select file, count(*) from audit.load_runs where source = 'web_events' and status = 'loaded' "
            "group by file having count(*) > 1"
        )
    records, bad = landing_events(fresh.landing)
    assert raw_rows == records and rejects == bad  # replays replaced, never duplicated
    assert raw_files <= len(HOURS) and sorted(f for f, _ in replays) == sorted(
        map(hour_file, HOURS)
    )  # both days re-run
    assert len(incremental["staging.stg_web__events"]) == records  # clean data: no redelivered events

    run(MODELS, full_refresh=True)
    full = models_state()
    for table, rows in full.items():
        assert len(rows) > 0, table
        assert incremental[table] == rows, f"{table}: incremental differs from the full refresh"


def test_a_redelivered_event_stays_once_from_the_file_that_brought_it_first(forked, instance):
    """Two later batches bring again an event staging already keeps (the same activity_uuid, another file)
    and an event whose id is no UUID, twice: staging keeps each once, from the file that brought it first.
    (On DuckDB the batch's ids are found by a key, and ids with no key whole: macros/event_key.sql.)"""
    odd = "event 1, no UUID"
    later = [f"web/events/date=2099-01-01/hour={hour}/events.jsonl" for hour in ("00", "01")]
    with env(forked), connect(settings()) as wh:
        columns, _ = wh.query("select * from raw.web_events where 1 = 0")
        _, [(kept, first_file)] = wh.query(
            "select activity_uuid, _source_file from staging.stg_web__events "
            "order by _source_file, activity_uuid limit 1"
        )
    for file in later:
        with env(forked), connect(settings()) as wh:
            for event in (kept, odd):  # copies of the kept event's row, loaded after every other row
                values = {"activity_uuid": "?", "_source_file": f"'{file}'",
                          "activity_key": "activity_key" if event == kept else "null",  # no UUID: no key
                          "_loaded_at": "(select max(_loaded_at) from raw.web_events) + interval '1 hour'"}  # fmt: skip
                picked = ", ".join(values.get(c, c) for c in columns)
                wh.execute(f"insert into raw.web_events ({', '.join(columns)}) select {picked} from raw.web_events "
                           "where activity_uuid = ?", [event, kept])  # fmt: skip
        with env(forked):
            assert materialize_all('key:"staging/stg_web__events"', instance=instance)
    with env(forked), connect(settings()) as wh:
        _, rows = wh.query(
            "select activity_uuid, _source_file from staging.stg_web__events where activity_uuid in (?, ?)", [kept, odd]
        )
    assert sorted(rows) == sorted([(kept, first_file), (odd, later[0])])
