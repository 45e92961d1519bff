"""The batching event log (dagster.yaml's storage) records a partition-range run as the stock one does."""

import datetime as dt
from pathlib import Path

import dagster as dg
import yaml

from orchestration.compat import dagster as event_storage

START, END = dt.date(2025, 7, 1), dt.date(2025, 9, 30)  # 92 daily partitions
PARTS = dg.DailyPartitionsDefinition(start_date=START.isoformat(), end_date=(END + dt.timedelta(days=1)).isoformat())


@dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run())
def files(context) -> None: ...


@dg.asset_check(asset=files, blocking=True)
def files_ok() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run(), deps=[files])
def sessions(context) -> None: ...


DEFS = dg.Definitions(assets=[files, sessions], asset_checks=[files_ok])
REPO = Path(__file__).resolve().parents[2]


class CountingStorage(event_storage.BatchingSqliteEventLogStorage):
    batches: list[int] = []  # noqa: RUF012

    def store_event_batch(self, events):
        CountingStorage.batches.append(len(events))
        super().store_event_batch(events)


def _instance(home: Path, storage: dict) -> dg.DagsterInstance:
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump({"storage": storage, "telemetry": {"enabled": False}}))
    return dg.DagsterInstance.from_config(str(home))


def _batching_instance(home: Path) -> dg.DagsterInstance:
    custom = {
        "module": event_storage.__name__,
        "class": "BatchingSqliteStorage",
        "config": {"base_dir": str(home / "s")},
    }
    return _instance(home, {"custom": custom})


def _run(instance: dg.DagsterInstance) -> None:
    tags = {"dagster/asset_partition_range_start": START.isoformat(),
            "dagster/asset_partition_range_end": END.isoformat()}  # fmt: skip
    result = DEFS.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance, tags=tags)
    assert result.success


def _recorded(instance: dg.DagsterInstance) -> dict:
    out = {}
    [run] = instance.get_runs()
    for key in (dg.AssetKey("files"), dg.AssetKey("sessions")):
        records = instance.fetch_materializations(key, limit=1000).records
        planned = instance.fetch_planned_materializations(key, limit=1000).records
        [entry] = [r.asset_entry for r in instance.get_asset_records([key])]  # the index's row of the asset
        last = entry.last_materialization_record
        out[key.to_user_string()] = {
            "materialized": sorted(instance.get_materialized_partitions(key)),
            "records": sorted(r.partition_key for r in records),
            "planned": sorted(r.event_log_entry.dagster_event.partition for r in planned),
            "latest": instance.get_latest_materialization_event(key).dagster_event.partition,
            "entry": (last.event_log_entry.dagster_event.partition, last.storage_id == records[0].storage_id,
                      entry.last_run_id == run.run_id),
        }  # fmt: skip
    check = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey("files"), "files_ok"), limit=10
    )
    out["check"] = [c.status.value for c in check]
    return out


def test_dagster_yaml_selects_the_batching_storage():
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())["storage"]["custom"]
    assert (config["module"], config["class"]) == (event_storage.__name__, "BatchingSqliteStorage")


def test_a_range_run_is_recorded_as_the_stock_storage_records_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", event_storage.BATCH_SIZE)
    monkeypatch.setattr(event_storage, "BatchingSqliteEventLogStorage", CountingStorage)
    CountingStorage.batches.clear()
    stock = _instance(tmp_path / "stock", {"sqlite": {"base_dir": str(tmp_path / "stock" / "s")}})
    batching = _batching_instance(tmp_path / "batch")
    assert isinstance(batching.event_log_storage, CountingStorage)
    _run(stock)
    _run(batching)

    days = [(START + dt.timedelta(days=i)).isoformat() for i in range((END - START).days + 1)]
    want = {"materialized": days, "records": days, "planned": days, "latest": END.isoformat(),
            "entry": (END.isoformat(), True, True)}  # fmt: skip
    got = _recorded(batching)
    assert got == _recorded(stock)
    assert got["files"] == want and got["sessions"] == want
    assert got["check"][0] == "SUCCEEDED"  # the latest execution (as in the stock storage)
    # the range went in as three batches: the run's planned events, then each asset's materializations
    assert len(CountingStorage.batches) == 3 and sum(CountingStorage.batches) >= 4 * len(days)


def test_without_batching_the_storage_still_records_each_event(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")  # Dagster then hands over events one by one
    instance = _batching_instance(tmp_path / "batch")
    _run(instance)
    assert len(_recorded(instance)["files"]["materialized"]) == (END - START).days + 1


def test_a_kept_connection_sees_what_another_process_commits(tmp_path):
    """The storage keeps its SQLite connections open between events: another instance (the UI, the daemon)
    reads each event as soon as it is committed, and this one reads theirs."""
    writer, reader = _batching_instance(tmp_path / "home"), dg.DagsterInstance.from_config(str(tmp_path / "home"))
    _run(writer)
    [run] = reader.get_runs()
    assert reader.get_records_for_run(run.run_id, limit=10_000).records  # read before the writer closes anything
    assert len(reader.get_materialized_partitions(dg.AssetKey("files"))) == (END - START).days + 1
    _run(reader)  # and back: the writer's kept connections see the reader's run
    assert len(writer.get_runs()) == 2
    assert len(writer.fetch_materializations(dg.AssetKey("files"), limit=1000).records) == 2 * ((END - START).days + 1)
