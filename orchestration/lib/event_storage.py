"""Dagster's SQLite storage, with asset events written a batch per transaction.

A run over a range of partitions (a year of daily web-event files, say) records one planned event
and one materialization per partition. The stock SQLite event log writes each in two transactions
of its own (the run's file and the cross-run index), opening both databases every time: about 12 ms
an event here, 17 s for the 730 partitions of a year of two daily assets, which was a quarter of
the first `c360 materialize` at 10,000 customers. Dagster already hands such events over in batches
when DAGSTER_EVENT_BATCH_SIZE is set, but the SQLite storage then stores them one by one. This one
stores a batch in one transaction per database: 2.5 s for the same 730 partitions.

The rows written are the ones the stock storage writes (the same helpers build them), so the UI,
the partition status and the sensors read them as before. dagster.yaml selects this storage.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence

from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory

# Dagster buffers batchable events (asset materializations and planned materializations of a
# partition range) only when this is above zero; a batch is also cut at the end of the range.
# Set here because every process that opens the instance loads this module through dagster.yaml.
BATCH_SIZE = "500"
os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", BATCH_SIZE)
BATCHED = ASSET_EVENTS | ASSET_CHECK_EVENTS  # what Dagster batches of these: materializations, planned ones


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        if not all(e.is_dagster_event and e.dagster_event_type in BATCHED for e in events):
            super().store_event_batch(events)  # anything else: one by one, as before
            return
        by_run: dict[str, list[EventLogEntry]] = defaultdict(list)
        for event in events:
            by_run[event.run_id].append(event)
        for run_id, run_events in by_run.items():
            with self.run_connection(run_id) as conn:
                conn.execute(self.prepare_insert_event_batch(run_events))
        # the cross-run index: the rows store_event mirrors there, in one transaction
        with self.index_transaction() as conn:
            ids = [conn.execute(self.prepare_insert_event(e)).inserted_primary_key[0] for e in events]
            assets = [(e, i) for e, i in zip(events, ids, strict=True) if e.dagster_event_type in ASSET_EVENTS]
            if assets:
                self._store_asset_event_tags(conn, [e for e, _ in assets], [i for _, i in assets])
            for event, event_id in assets:
                self._store_asset_event(conn, event, event_id)
        for event, event_id in zip(events, ids, strict=True):
            if event.dagster_event_type in ASSET_CHECK_EVENTS:  # planned checks: their own short write each
                self.store_asset_check_event(event, event_id)


class BatchingSqliteStorage(DagsterSqliteStorage):
    """`storage: sqlite` with the batching event log; the same files under the same base_dir."""

    def __init__(self, base_dir: str, inst_data=None):
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = BatchingSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # the parent builds its own class
        return cls.from_local(inst_data=inst_data, **config_value)
