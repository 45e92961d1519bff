"""The warehouse as the API and the dashboard read it: one Backend per server process, shared by both, so a
DuckDB warehouse has one connection (its one writer) and every read goes through the caller's role."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sqlglot import exp

from c360_core.settings import Settings
from c360_core.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse, duckdb_config
from governance.audit import Access, record_many
from governance.audit import ensure as ensure_access_log
from serving import tokens
from serving.access import Forbidden, Reader

AUDIT_FLUSH_SECONDS = 0.25  # how long a call's audit row may wait to be written with the others of that moment


class Backend:
    """DuckDB: one connection for the server's life, taken in turn (the server is then the file's one writer:
    run the pipeline with it stopped, or serve from PostgreSQL). PostgreSQL: a connection per call, switched
    to the caller's role.

    Audit rows are written in batches by a background thread, every AUDIT_FLUSH_SECONDS and when the server
    stops: one insert per batch instead of one per call (a row cost a call ~2.4 ms under the connection's
    lock, a third of a profile look-up). A server that is killed loses at most that moment's rows."""

    def __init__(self, cfg: Settings) -> None:
        self.cfg = cfg
        self._lock = threading.Lock()
        self._duck: DuckDBWarehouse | None = None
        self._layers: dict[str, object] = {}
        self._layers_lock = threading.Lock()
        self._pending: list[Access] = []
        self._pending_lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    @property
    def postgres(self) -> bool:
        return self.cfg.target == "postgres"

    def open(self) -> None:
        if self._duck is not None:
            return
        if not self.postgres:
            if not self.cfg.duckdb_path.exists():
                raise FileNotFoundError(f"no warehouse at {self.cfg.duckdb_path}: run `make demo` first")
            self._duck = DuckDBWarehouse(self.cfg.duckdb_path, duckdb_config(self.cfg))
        with self.owner() as wh:
            wh.execute("create schema if not exists audit")
            tokens.ensure(wh)
            ensure_access_log(wh)
        self._stop.clear()
        self._flusher = threading.Thread(target=self._flush_every, name="audit-flush", daemon=True)
        self._flusher.start()

    def close(self) -> None:
        if self._flusher is not None:
            self._stop.set()
            self._flusher.join()
            self._flusher = None
        self.flush()
        if self._duck is not None:
            self._duck.close()
            self._duck = None

    @contextlib.contextmanager
    def owner(self) -> Iterator[Warehouse]:
        """The warehouse as its owner: tokens, the audit log, the ML features."""
        if self.postgres:
            wh = PostgresWarehouse(self.cfg.pg_dsn)
            try:
                yield wh
            finally:
                wh.close()
        else:
            if self._duck is None:
                raise RuntimeError("the backend is not open")
            with self._lock:
                yield self._duck

    @contextlib.contextmanager
    def as_role(self, who: Reader) -> Iterator[Warehouse]:
        """The warehouse as the role: on PostgreSQL the server enforces the role's grants and row filters."""
        with self.owner() as wh:
            if self.postgres:
                wh.execute(f'set role "{who.role}"')
            yield wh

    def audit(self, interface: str, statement: str, role: str, started: dt.datetime, clock: float, *,
              rows: int | None, error: str | None) -> None:  # fmt: skip
        """One audit.access_log row, written with the next batch; `clock` is the perf_counter() at the start."""
        entry = Access(interface, statement, role, started, (time.perf_counter() - clock) * 1000, rows, error)
        with self._pending_lock:
            self._pending.append(entry)

    def flush(self) -> None:
        """Write the audit rows waiting now, in one insert."""
        with self._pending_lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            with self.owner() as wh:
                record_many(wh, batch, self.cfg.target)
        except Exception:
            with self._pending_lock:  # kept, in order, for the next batch
                self._pending[:0] = batch
            raise

    def _flush_every(self) -> None:
        while not self._stop.wait(AUDIT_FLUSH_SECONDS):
            try:
                self.flush()
            except Exception as err:  # a failed write must not stop the thread: the rows are retried next time
                print(f"c360 serve: could not write the audit log ({err}); retrying", flush=True)

    def region(self, who: Reader, key: str = "customer_id") -> tuple[str, list]:
        """The regional analyst's row filter on DuckDB, as ` and <key> in (...)` with its parameters
        (PostgreSQL applies its own row-level security)."""
        if who.states is None or self.postgres:
            return "", []
        marks = ", ".join("?" for _ in who.states)
        return f" and {key} in (select customer_id from marts.customers where state in ({marks}))", list(who.states)

    def rejects_sql(self, who: Reader) -> str | None:
        """One query of every `raw.<source>__rejects` table's rows by reason (source, reason, rows), or None
        when no source has a rejects table yet."""
        with self.as_role(who) as wh:
            _, tables = wh.query("select table_name from information_schema.tables where table_schema = 'raw' "
                                 "and table_name like '%\\_\\_rejects' escape '\\' order by 1")  # fmt: skip
        parts = [f"select '{t.removesuffix('__rejects')}' as source, reason, count(*) as \"rows\" from raw.{t} "
                 "group by 1, 2" for (t,) in tables]  # fmt: skip
        return " union all ".join(parts) + " order by 1, 2" if parts else None

    def layer(self, who: Reader):
        """The semantic layer (MetricFlow) over the marts the role reads: its share for marketing and consumers."""
        from orchestration.lib.semantic import SemanticLayer  # noqa: PLC0415  (MetricFlow: ~0.5 s to import)

        home = who.home
        with self._layers_lock:
            if home not in self._layers:
                path = self.cfg.dbt_target / "semantic_manifest.json"
                if not path.exists():
                    raise FileNotFoundError(f"{path} is missing: run `c360 materialize` first")
                self._layers[home] = SemanticLayer(_in_schema(path, home, self.cfg), self.cfg.target)
            return self._layers[home]

    def metric_sql(self, who: Reader, metrics: list[str], group_by: list[str] = (), where: list[str] = (), *,
                   start: dt.date | None = None, end: dt.date | None = None) -> str:  # fmt: skip
        """A metric query's SQL as MetricFlow renders it for the role. On DuckDB a regional analyst's query is
        restricted to its states through the customer entity (PostgreSQL's row-level security does that by
        itself); a metric that cannot reach a customer's state is refused rather than shown unrestricted."""
        where = list(where)
        if who.states is not None and not self.postgres:
            states = ", ".join("'" + s.replace("'", "''") + "'" for s in who.states)
            where.append("{{ Dimension('customer__state') }} in (" + states + ")")
        try:
            return self.layer(who).metric_sql(metrics, group_by, where, start, end)
        except Exception as err:
            if who.states is not None and not self.postgres and "customer__state" in str(err):
                raise Forbidden(f"{', '.join(metrics)} cannot be restricted to role {who.role}'s region") from err
            raise


def _in_schema(path: Path, schema: str, cfg: Settings) -> Path:
    """The semantic manifest with every semantic model read from `schema` (a role's share has the marts'
    names): written beside the original once per schema."""
    if schema == "marts":
        return path
    dialect = "postgres" if cfg.target == "postgres" else "duckdb"
    doc = json.loads(path.read_text())
    for model in doc["semantic_models"]:
        relation = model["node_relation"]
        if relation["schema_name"] == "marts":
            relation["schema_name"] = schema
            table = exp.to_table(relation["relation_name"], dialect=dialect)
            table.set("db", exp.to_identifier(schema, quoted=True))
            relation["relation_name"] = table.sql(dialect=dialect)
    out = path.with_name(f"semantic_manifest.{schema}.json")
    out.write_text(json.dumps(doc))
    return out
