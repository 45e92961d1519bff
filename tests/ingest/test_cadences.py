"""Backfills from the CLI, late files picked up by the sensor, and run-failure alerts to a webhook."""

from __future__ import annotations

import json
import os
import time

import dagster as dg
from click.testing import CliRunner

from c360_cli.main import cli
from c360_core.warehouse import connect
from landing import path_for
from orchestration.definitions import defs
from orchestration.defs.alerts.sensors import run_failure_alert
from orchestration.defs.ingest.definitions import job_for_source
from orchestration.defs.ingest.late_files import late_file_requests
from orchestration.plan import RANGE_END, RANGE_START, plan
from orchestration.plan import selection as _selection
from tests.support.readers import read_records
from tests.support.warehouse import env, materialize_all, receiver

DAYS = ["2026-01-02", "2026-01-03", "2026-01-04"]


def raw_state(cfg, source: str) -> tuple[dict, int]:
    with connect(cfg) as wh:
        _, per_file = wh.query(f"select _source_file, count(*) from raw.{source} group by 1")
        _, [(loads,)] = wh.query("select count(*) from audit.load_runs where source = ?", [source])
    return dict(per_file), loads


def test_a_three_day_backfill_from_the_cli_loads_exactly_those_days_and_rerunning_replaces_them(fresh):
    args = ["materialize", "--select", "customers or transactions", "--partition-range", f"{DAYS[0]}...{DAYS[-1]}"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    for source in ("customers", "transactions"):
        want = {path_for(source, d): sum(1 for _, r in read_records(fresh.landing / path_for(source, d), source) if r)
                for d in DAYS}  # fmt: skip
        per_file, loads = raw_state(fresh, source)
        assert per_file == want  # exactly the three days' files, every record
        assert loads == 3
    result = CliRunner().invoke(cli, args)  # the same backfill again
    assert result.exit_code == 0, result.output
    again, loads = raw_state(fresh, "transactions")
    assert again == per_file
    assert loads == 6  # each file read again and replaced: no duplicates, no loss
    assert "--partition-range" in CliRunner().invoke(cli, ["materialize", "--help"]).output


def test_web_events_are_partitioned_by_day_and_an_hour_key_is_a_clear_error(fresh):
    result = CliRunner().invoke(
        cli, ["materialize", "--select", "web_events", "--partition-range", "2026-01-01...2026-01-02"]
    )
    assert result.exit_code == 0, result.output
    per_file, loads = raw_state(fresh, "web_events")
    want = {path_for("web_events", f"{d}T{h:02d}") for d in ("2026-01-01", "2026-01-02") for h in range(24)}
    assert set(per_file) <= want and loads == 48  # both days' 48 files, nothing else
    assert "2 partitions" in result.output
    result = CliRunner().invoke(
        cli, ["materialize", "--select", "web_events", "--partition-range", "2026-01-01-00...2026-01-01-02"]
    )
    assert result.exit_code == 1 and "is not a partition (keys look like" in result.output


def test_a_bad_partition_range_is_a_clear_error(fresh):
    result = CliRunner().invoke(cli, ["materialize", "--select", "customers", "--partition-range", "2026-01-02"])
    assert result.exit_code == 1 and "FIRST...LAST" in result.output


def test_a_late_file_re_runs_its_partition(fresh, instance):
    busiest = max(
        range(24), key=lambda h: (fresh.landing / path_for("web_events", f"2026-01-01T{h:02d}")).stat().st_size
    )
    day, stamp = "2026-01-01", f"2026-01-01T{busiest:02d}"
    assert materialize_all('key:"raw/web_events"', f"{day}...{day}", instance=instance)
    requests, cursor = late_file_requests(instance, 0.0, job_for_source)
    assert requests == []  # every file arrived before its partition was loaded
    path = fresh.landing / path_for("web_events", stamp)
    records = [r for _, r in read_records(path, "web_events") if r]
    late = {**records[0], "activity_uuid": "late-0001"}
    time.sleep(0.01)
    with open(path, "a") as f:  # a late delivery for that hour
        f.write(json.dumps(late) + "\n")
    os.utime(path)
    requests, _ = late_file_requests(instance, cursor, job_for_source)
    assert [(r.job_name, r.partition_key) for r in requests] == [("ingest_hourly", day)]
    job = defs.resolve_job_def(requests[0].job_name)
    assert job.execute_in_process(
        instance=instance, partition_key=day, asset_selection=requests[0].asset_selection, tags=requests[0].tags
    ).success
    with connect(fresh) as wh:
        _, [(rows, late_rows)] = wh.query(
            "select count(*), sum(case when activity_uuid = 'late-0001' then 1 else 0 end) from raw.web_events"
        )
    day_records = sum(
        1 for h in range(24) for _, r in read_records(fresh.landing / path_for("web_events", f"{day}T{h:02d}"),
                                                      "web_events") if r
    )  # fmt: skip
    assert rows == day_records and late_rows == 1  # the day, late record included, loaded once


def test_a_failed_run_posts_an_alert_to_the_webhook(fresh, instance):
    broken = fresh.landing / path_for("brands", "2026-01")
    broken.write_text("<brands><brand>not closed")  # an unreadable file fails the run
    with receiver() as hook, env({"C360_ALERT_WEBHOOK_URL": hook.url}):
        assert not materialize_all('key:"raw/brands"', "2026-01-01...2026-01-01", instance=instance)
        run = instance.get_runs(limit=1)[0]
        failure = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records[0]
        context = dg.build_run_status_sensor_context(
            sensor_name="c360_run_failure_alert",
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=failure.event_log_entry.dagster_event,
        ).for_run_failure()
        run_failure_alert(context)
    assert len(hook.bodies) == 1
    alert = hook.bodies[0]
    assert alert["event"] == "run_failure" and alert["run_id"] == run.run_id
    assert alert["failed_steps"] == ["raw__brands"] and alert["tags"]["c360/warehouse"] == fresh.target


def test_catch_up_plans_only_partitions_with_new_or_changed_files(fresh, instance):
    assert materialize_all("group:ingest", instance=instance)
    steps = plan(defs, _selection("group:ingest", defs), None)
    # only the unpartitioned shop sources are left to run (they have no partitions to skip)
    assert [s.keys for s in steps] == [[dg.AssetKey(["raw", "orders"]), dg.AssetKey(["raw", "order_line_items"])]]
    path = fresh.landing / path_for("customers", DAYS[1])
    path.write_text(path.read_text())  # re-delivered: same bytes, new modification time
    os.utime(path, (time.time(), time.time()))
    steps = plan(defs, _selection("group:ingest", defs), None)
    partitioned = [s for s in steps if RANGE_START in s.tags]
    assert len(partitioned) == 1
    assert partitioned[0].tags[RANGE_START] == partitioned[0].tags[RANGE_END] == DAYS[1]
