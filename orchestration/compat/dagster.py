"""Compat: Dagster's private storage classes and job resolution (orchestration/compat/__init__.py).

Dagster's SQLite storage, with asset events written a batch per transaction.

A run over a range of partitions (a year of daily web-event files, say) records one planned event
and one materialization per partition. The stock SQLite event log writes each in two transactions
of its own (the run's file and the cross-run index), opening both databases every time: about 12 ms
an event here, 17 s for the 730 partitions of a year of two daily assets, which was a quarter of
the first `c360 materialize` at 10,000 customers. Dagster already hands such events over in batches
when DAGSTER_EVENT_BATCH_SIZE is set, but the SQLite storage then stores them one by one. This one
stores a batch in one transaction per database: 2.5 s for the same 730 partitions.

The stock storage also opens a new engine and connection for every write and closes it after, and in
WAL mode the last connection to close checkpoints the database: 2-28 ms an event here, 16 s of a first
`c360 materialize` at 10,000 customers (dbt's tests and the contracts' checks are recorded one by one).
This one keeps an engine, and its pooled connections, per database it writes to (the index and the
few newest runs); remembers the index's tables and columns instead of reading the schema before each
event; and commits with `synchronous=NORMAL`, SQLite's setting for WAL mode that syncs at checkpoints,
not at every commit (which waited on the disk behind DuckDB's writes). A committed event survives the
process being killed; an OS crash or power cut can lose the last events, never the database's integrity.

The rows written are the ones the stock storage writes (the same helpers build them), so the UI,
the partition status and the sensors read them as before. dagster.yaml selects this storage;
C360_STOCK_EVENT_STORAGE=true makes it the stock storage again (the same files).
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Sequence

import sqlalchemy as db
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from sqlalchemy.engine import Connection, Engine

from c360_core.settings import settings

# Dagster buffers batchable events (asset materializations and planned materializations of a
# partition range) only when this is above zero; a batch is also cut at the end of the range.
# Set when the storage is made: every process that opens the instance makes it (dagster.yaml).
BATCH_SIZE = "500"
CHECKED = {"dagster": "1.13.27"}
BATCHED = ASSET_EVENTS | ASSET_CHECK_EVENTS  # what Dagster batches of these: materializations, planned ones
OPEN_SHARDS = 4  # databases kept open: the index and the newest runs (a long-lived daemon sees thousands)


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data=None):
        os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", BATCH_SIZE)
        self._engines: OrderedDict[str, Engine] = OrderedDict()  # shard -> engine, least recently used first
        self._known: set[tuple[str, str]] = set()  # ("table" | "column", name): schema found, and it stays
        super().__init__(base_dir, inst_data=inst_data)

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        """The stock `_connect` (one transaction, under the storage's lock) on a kept engine and connection."""
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            # SQLAlchemy's pool for a SQLite file: connections stay open between transactions, and pass
            # between threads (one at a time, under the lock); other processes still see every commit
            engine = db.create_engine(self.conn_string_for_shard(shard),
                                      connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})  # fmt: skip
            db.event.listen(engine, "connect", _sync_at_checkpoints)
        self._engines[shard] = engine
        while len(self._engines) > OPEN_SHARDS:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    def _remembered(self, kind: str, name: str, probe) -> bool:
        """A table or column once found stays (migrations only add them): the schema is read until then."""
        if (kind, name) not in self._known and probe():
            self._known.add((kind, name))
        return (kind, name) in self._known

    def has_table(self, table_name: str) -> bool:  # asked before every check event
        parent = super().has_table
        return self._remembered("table", table_name, lambda: parent(table_name))

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:  # every asset event
        parent = super()._has_asset_key_col_on_connection
        return self._remembered("column", column_name, lambda: parent(conn, column_name))

    def _close_shards(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._close_shards()  # before the run databases are deleted
        super().wipe()

    def dispose(self) -> None:
        self._close_shards()
        super().dispose()

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        if not all(e.is_dagster_event and e.dagster_event_type in BATCHED for e in events):
            super().store_event_batch(events)  # anything else: one by one, as before
            return
        rows = [self._event_to_row(e) for e in events]  # each event serialized once, for both databases
        by_run: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            by_run[row["run_id"]].append(row)
        for run_id, run_rows in by_run.items():
            with self.run_connection(run_id) as conn:
                conn.execute(SqlEventLogStorageTable.insert(), run_rows)
        # the cross-run index: the rows store_event mirrors there, in one transaction
        with self.index_transaction() as conn:
            insert = SqlEventLogStorageTable.insert().returning(
                SqlEventLogStorageTable.c.id, sort_by_parameter_order=True
            )
            ids = [event_id for (event_id,) in conn.execute(insert, rows)]
            assets = [(e, i) for e, i in zip(events, ids, strict=True) if e.dagster_event_type in ASSET_EVENTS]
            if assets:
                self._store_asset_event_tags(conn, [e for e, _ in assets], [i for _, i in assets])
            for event, event_id in _last_of_each_kind(assets):
                self._store_asset_event(conn, event, event_id)
        for event, event_id in zip(events, ids, strict=True):
            if event.dagster_event_type in ASSET_CHECK_EVENTS:  # planned checks: their own short write each
                self.store_asset_check_event(event, event_id)


def _last_of_each_kind(assets: list[tuple[EventLogEntry, int]]) -> list[tuple[EventLogEntry, int]]:
    """The events that decide an asset's row in the index, in their order.

    Each asset event overwrites the same columns of its asset's row as every event of its type (a
    materialization: the last materialization, run and time; a planned one: the run and time). So applying
    only the last event of each asset and type, in order, leaves the row as applying all 730 of a year would.
    """
    last = {(e.dagster_event.asset_key, e.dagster_event_type): n for n, (e, _) in enumerate(assets)}
    return [assets[n] for n in sorted(last.values())]


def _sync_at_checkpoints(dbapi_connection, _record) -> None:
    dbapi_connection.execute("pragma synchronous = normal")


class BatchingSqliteStorage(DagsterSqliteStorage):
    """`storage: sqlite` with the batching event log; the same files under the same base_dir."""

    def __init__(self, base_dir: str, inst_data=None):
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = BatchingSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # the parent builds its own class
        if settings().stock_event_storage:
            return DagsterSqliteStorage.from_local(inst_data=inst_data, **config_value)
        return cls.from_local(inst_data=inst_data, **config_value)


def implicit_job(defs, keys: list):
    """The job Dagster itself builds for materializing a set of assets (what `materialize` from the UI runs);
    Definitions names the method "resolve_implicit_job_def_def_for_assets" and keeps it out of its docs."""
    return defs.resolve_implicit_job_def_def_for_assets(keys)
