"""Comparing two warehouses built from the same files on different engines (tests/spark): their rows and their
contracts' outcomes, without what says when a row was loaded or checked."""

from __future__ import annotations

from c360_core.settings import environ as env
from c360_core.settings import settings
from c360_core.warehouse import connect
from landing import SOURCES
from quality.score import score
from quality.soda import CheckResult, contracts, verify

# what says when a row was loaded or verified, not what it holds
WHEN = {"_load_id", "_loaded_at", "_first_loaded_at", "load_id", "started_at", "finished_at", "recorded_at"}
# look-up keys one engine computes for itself (DuckDB's activity_key: dbt_project/macros/event_key.sql)
KEYS = {"activity_key"}


def rows_of(table: str) -> list[tuple]:
    """Every row of a table on the current settings' warehouse, its columns in name order (a contract orders a
    mart's columns as its YAML does, which Spark does not enforce), but when it was loaded and an engine's own
    look-up keys; floats rounded."""
    with connect(settings()) as wh:
        columns, rows = wh.query(f"select * from {table}")
    keep = sorted((c, i) for i, c in enumerate(columns) if c not in WHEN | KEYS)
    clean = [tuple(round(r[i], 6) if isinstance(r[i], float) else r[i] for _, i in keep) for r in rows]
    return sorted(clean, key=repr)


def _figure(r: CheckResult) -> float | None:
    """A check's figure to compare: a freshness check's is the hours since the warehouse loaded, which differ."""
    return None if r.check_type == "freshness" or r.value is None else round(r.value, 9)


def outcomes(values: dict[str, str], layer: str = "") -> dict[str, tuple[float, list]]:
    """Each contract's score and its checks' outcomes and figures, on the warehouse of `values` (the contracts
    of datasets in `layer`, e.g. "raw.", or all)."""
    with env(values):
        cfg = settings()
        results = {c.dataset: verify(cfg, c) for c in contracts() if c.dataset.startswith(layer)}
    return {dataset: (score(dataset, got).score, sorted((r.check, r.outcome, _figure(r), r.failed_rows) for r in got))
            for dataset, got in results.items()}  # fmt: skip


def differences(want: dict, got: dict) -> dict:
    """What `got` holds differently from `want`, by key."""
    return {k: (w, got.get(k)) for k, w in want.items() if got.get(k) != w}


def raw_tables_that_differ(want: dict[str, str], got: dict[str, str]) -> list[str]:
    """The raw tables and rejects tables whose rows on `got`'s warehouse are not `want`'s."""
    differ = []
    for table in [t for source in SOURCES for t in (f"raw.{source}", f"raw.{source}__rejects")]:
        with env(want):
            rows = rows_of(table)
        with env(got):
            if rows_of(table) != rows:
                differ.append(table)
    return differ


def audit_of_loaded_files(values: dict[str, str]) -> list[tuple]:
    """(source, file, rows read, loaded, rejected) of every loaded file in the ledger."""
    with env(values), connect(settings()) as wh:
        return wh.query("select source, file, rows_read, rows_loaded, rows_rejected from audit.load_runs "
                        "where status = 'loaded'")[1]  # fmt: skip
