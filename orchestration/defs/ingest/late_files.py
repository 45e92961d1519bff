"""The late-file sensor: a landing file that arrives after its partition was loaded re-runs it.

Files are found by modification time (the time they were delivered), past a cursor, so each
tick only looks at what is new. A file is late when its partition was already materialized
before the file arrived; then the partition is re-run, which replaces it exactly.
"""

import datetime as dt
import json

import dagster as dg

from c360_core.settings import settings
from landing import SOURCES, period_of
from orchestration.defs.ingest.partitions import PARTITIONS
from orchestration.lib.load import landing_files


def _last_materialized(instance: dg.DagsterInstance, source: str, partition: str) -> float | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(["raw", source]), asset_partitions=[partition]), limit=1
    ).records
    return records[0].timestamp if records else None


def late_file_requests(instance: dg.DagsterInstance, cursor: float, job_for: dict[str, str]):
    """(run requests, new cursor) for files delivered after `cursor` (epoch seconds)."""
    landing = settings().landing
    newest, wanted = cursor, {}
    for name, partitions in PARTITIONS.items():
        for path in landing_files(landing, SOURCES[name]):
            mtime = path.stat().st_mtime
            if mtime <= cursor:
                continue
            newest = max(newest, mtime)
            start = period_of(name, str(path.relative_to(landing))).replace(tzinfo=dt.UTC)
            key = partitions.get_partition_key_for_timestamp(start.timestamp())
            loaded_at = _last_materialized(instance, name, key)
            if loaded_at is not None and loaded_at < mtime:
                wanted[(name, key)] = max(mtime, wanted.get((name, key), 0.0))
    requests = [
        dg.RunRequest(
            job_name=job_for[name],
            partition_key=key,
            run_key=f"late:{name}:{key}:{mtime}",
            asset_selection=[dg.AssetKey(["raw", name])],
            tags={"c360/trigger": "late_file"},
        )
        for (name, key), mtime in sorted(wanted.items())
    ]
    return requests, newest


def late_file_sensor(jobs: list, job_for: dict[str, str]) -> dg.SensorDefinition:
    @dg.sensor(
        name="c360_late_files_sensor",
        jobs=jobs,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Re-runs a source partition when a file for it arrives after it was loaded.",
    )
    def _sensor(context: dg.SensorEvaluationContext):
        cursor = json.loads(context.cursor) if context.cursor else 0.0
        requests, newest = late_file_requests(context.instance, cursor, job_for)
        context.update_cursor(json.dumps(newest))
        return requests or dg.SkipReason("no late files")

    return _sensor
