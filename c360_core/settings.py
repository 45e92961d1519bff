"""All configuration comes from environment variables, chosen here and nowhere else."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TARGETS = ("duckdb", "postgres")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    target: str
    duckdb_path: Path
    pg_host: str
    pg_port: int
    pg_user: str
    pg_password: str
    pg_database: str
    as_of_date: dt.date
    partitions_start: dt.date | None  # None: from the earliest landing file (orchestration partitions)
    alert_webhook_url: str
    shop_database: str
    quality_min_score: float | None  # overrides quality/thresholds.yml for every dataset when set
    mlflow_tracking_uri: str  # the MLflow store: runs, metrics and the model registry
    load_chunk_files: int  # landing files per loader transaction (at most 64 MiB of them)
    duckdb_memory_limit: str  # DuckDB's buffer limit, for c360's connections, dbt's (profiles.yml) and Soda's
    pii_salt: str  # salts the consumer share's hashes and the erasure suppression list (docs/governance.md)
    dbt_in_process: bool  # dbt runs in the Dagster run's process; False: a dbt subprocess (docs/decisions.md)

    @property
    def landing(self) -> Path:
        return self.data_dir / "landing"

    @property
    def mlflow_artifacts(self) -> Path:
        """Where MLflow keeps models and plots (the tracking store keeps only their metadata)."""
        return self.data_dir / "mlartifacts"

    @property
    def pg_dsn(self) -> str:
        password = f" password={self.pg_password}" if self.pg_password else ""
        return f"host={self.pg_host} port={self.pg_port} user={self.pg_user} dbname={self.pg_database}{password}"


def settings() -> Settings:
    data_dir = Path(os.environ.get("C360_DATA_DIR", "./data")).resolve()
    target = os.environ.get("C360_TARGET", "duckdb").lower()
    if target not in TARGETS:
        raise ValueError(f"C360_TARGET must be one of {TARGETS}, got {target!r}")
    as_of = os.environ.get("C360_AS_OF_DATE")
    return Settings(
        data_dir=data_dir,
        target=target,
        duckdb_path=Path(os.environ.get("C360_DUCKDB_PATH", data_dir / "warehouse.duckdb")).resolve(),
        pg_host=os.environ.get("C360_PG_HOST", "127.0.0.1"),
        pg_port=int(os.environ.get("C360_PG_PORT", "5432")),
        pg_user=os.environ.get("C360_PG_USER", "postgres"),
        pg_password=os.environ.get("C360_PG_PASSWORD", ""),
        pg_database=os.environ.get("C360_PG_DATABASE", "c360"),
        as_of_date=dt.date.fromisoformat(as_of) if as_of else dt.date.today(),
        # the first day any time-partitioned source has a partition for; unset: the earliest landing file
        partitions_start=dt.date.fromisoformat(start) if (start := os.environ.get("C360_PARTITIONS_START")) else None,
        alert_webhook_url=os.environ.get("C360_ALERT_WEBHOOK_URL", ""),
        # the shop's own database (schema `shop`); by default the warehouse database's server and name
        shop_database=os.environ.get("C360_SHOP_DATABASE", os.environ.get("C360_PG_DATABASE", "c360")),
        quality_min_score=float(min_score) if (min_score := os.environ.get("C360_QUALITY_MIN_SCORE")) else None,
        mlflow_tracking_uri=os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{data_dir / 'mlflow.db'}"),
        load_chunk_files=int(os.environ.get("C360_LOAD_CHUNK_FILES", "10000")),
        duckdb_memory_limit=os.environ.get("C360_DUCKDB_MEMORY_LIMIT", "3GB"),
        # the dbt macro pii_hash reads the same variable with the same default
        pii_salt=os.environ.get("C360_PII_SALT", "c360-local-development-salt"),
        dbt_in_process=os.environ.get("C360_DBT_IN_PROCESS", "true").lower() not in ("0", "false", "no"),
    )


@contextlib.contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block, then put back what was there."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
