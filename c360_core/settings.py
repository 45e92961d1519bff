"""All configuration comes from environment variables, and every default is chosen here and nowhere else.

The other readers of the same variables get their values from here: dbt (profiles.yml and the macros read
`env_var` with no default) through `Settings.environment()`, passed to each invocation, and the Makefile and
a shell through `c360 env`, which prints them as exports.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from c360_core.spark import client_conf

TARGETS = ("duckdb", "postgres", "spark")
ROOT = Path(__file__).resolve().parents[1]  # the repository: the default definition files live there
TRUE = ("1", "true", "yes")


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
    load_chunk_files: int  # landing files per loader transaction, at most (load.py's _Committer)
    duckdb_memory_limit: str  # DuckDB's buffer limit, for c360's connections, dbt's (profiles.yml) and Soda's
    pii_salt: str  # salts the consumer share's hashes and the erasure suppression list (docs/governance.md)
    dbt_in_process: bool  # dbt runs in the Dagster run's process; False: a dbt subprocess (docs/decisions.md)
    dbt_threads: int | None  # the models or tests dbt builds at once; None (auto): by the data's size (dbt/assets.py)
    dagster_storage: Path  # the Dagster instance's runs, events and schedules (dagster.yaml reads it)
    dagster_logs: Path  # the compute logs of Dagster runs
    audiences_file: Path  # the audience definitions (docs/semantic-layer.md)
    access_file: Path  # the roles and what each may see (docs/governance.md)
    retention_file: Path  # how long each source's rows are kept (docs/governance.md)
    user: str  # the person behind a call, for the audit log: C360_USER when a front end sets it, else the OS user
    stock_event_storage: bool  # Dagster's own event storage instead of c360's batching one (compat switch-off)
    slow_exit: bool  # the CLI ends through the interpreter's teardown (c360_cli/compat.py)
    api_rate_limit: int  # requests a minute per API token (docs/serving.md)
    api_token_days: int  # days until a new API token expires
    spark_master: str  # the master of an existing Spark cluster; empty: the one `c360 spark start` runs here
    spark_host: str  # the address the cluster c360 starts binds to
    spark_master_port: int  # its master's port; the workers take the next ones
    spark_ui_port: int  # its master's web UI; the workers' UIs take the next ones
    spark_worker_cores: int
    spark_worker_memory: str
    spark_executor_memory: str
    spark_driver_memory: str
    spark_shuffle_partitions: int
    spark_connect_port: int  # the Spark Connect server c360 starts: the one driver every client talks to
    spark_remote: str  # the Spark Connect server of an existing cluster; empty: the one `c360 spark start` runs

    @property
    def landing(self) -> Path:
        return self.data_dir / "landing"

    @property
    def spark_dir(self) -> Path:
        """The cluster's logs and pid files, the Spark warehouse's Parquet tables and its Derby metastore."""
        return self.data_dir / "spark"

    @property
    def fraud_labels(self) -> Path:
        """Confirmed fraud cases (a CSV with an order_id column), when the landing zone has them: the anomaly
        detector is judged on them (docs/ml.md, Anomalies). The simulator lists its planted ones there."""
        return self.landing / "_manifest" / "anomalies.csv"

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder for this warehouse: its manifests name this warehouse's relations."""
        return self.data_dir / "dbt-target" / self.target

    @property
    def mlflow_artifacts(self) -> Path:
        """Where MLflow keeps models and plots (the tracking store keeps only their metadata)."""
        return self.data_dir / "mlartifacts"

    @property
    def pg_dsn(self) -> str:
        password = f" password={self.pg_password}" if self.pg_password else ""
        return f"host={self.pg_host} port={self.pg_port} user={self.pg_user} dbname={self.pg_database}{password}"

    def environment(self) -> dict[str, str]:
        """Every setting as the environment variable it comes from, defaults filled in: the environment of a
        dbt invocation, of a child process, and what `c360 env` prints. Unset optional settings stay unset."""
        values = {
            "C360_DATA_DIR": str(self.data_dir),
            "C360_TARGET": self.target,
            "C360_DUCKDB_PATH": str(self.duckdb_path),
            "C360_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "C360_PG_HOST": self.pg_host,
            "C360_PG_PORT": str(self.pg_port),
            "C360_PG_USER": self.pg_user,
            "C360_PG_PASSWORD": self.pg_password,
            "C360_PG_DATABASE": self.pg_database,
            "C360_SHOP_DATABASE": self.shop_database,
            "C360_AS_OF_DATE": self.as_of_date.isoformat(),
            "C360_ALERT_WEBHOOK_URL": self.alert_webhook_url,
            "C360_LOAD_CHUNK_FILES": str(self.load_chunk_files),
            "C360_PII_SALT": self.pii_salt,
            "C360_DBT_IN_PROCESS": str(self.dbt_in_process).lower(),
            "C360_DBT_THREADS": "auto" if self.dbt_threads is None else str(self.dbt_threads),
            "C360_DAGSTER_STORAGE": str(self.dagster_storage),
            "C360_DAGSTER_LOGS": str(self.dagster_logs),
            "MLFLOW_TRACKING_URI": self.mlflow_tracking_uri,
            "C360_AUDIENCES": str(self.audiences_file),
            "C360_ACCESS": str(self.access_file),
            "C360_RETENTION": str(self.retention_file),
            "C360_STOCK_EVENT_STORAGE": str(self.stock_event_storage).lower(),
            "C360_SLOW_EXIT": str(self.slow_exit).lower(),
            "C360_API_RATE_LIMIT": str(self.api_rate_limit),
            "C360_API_TOKEN_DAYS": str(self.api_token_days),
            "C360_SPARK_MASTER": self.spark_master,
            "C360_SPARK_HOST": self.spark_host,
            "C360_SPARK_MASTER_PORT": str(self.spark_master_port),
            "C360_SPARK_UI_PORT": str(self.spark_ui_port),
            "C360_SPARK_WORKER_CORES": str(self.spark_worker_cores),
            "C360_SPARK_WORKER_MEMORY": self.spark_worker_memory,
            "C360_SPARK_EXECUTOR_MEMORY": self.spark_executor_memory,
            "C360_SPARK_DRIVER_MEMORY": self.spark_driver_memory,
            "C360_SPARK_SHUFFLE_PARTITIONS": str(self.spark_shuffle_partitions),
            "C360_SPARK_CONNECT_PORT": str(self.spark_connect_port),
            "C360_SPARK_REMOTE": self.spark_remote,
            "C360_SPARK_CONF": json.dumps(client_conf(self)),
        }  # not C360_USER: who calls is each process's own
        if self.partitions_start is not None:
            values["C360_PARTITIONS_START"] = self.partitions_start.isoformat()
        if self.quality_min_score is not None:
            values["C360_QUALITY_MIN_SCORE"] = str(self.quality_min_score)
        return values


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
        pii_salt=os.environ.get("C360_PII_SALT", "c360-local-development-salt"),
        dbt_in_process=os.environ.get("C360_DBT_IN_PROCESS", "true").lower() not in ("0", "false", "no"),
        audiences_file=Path(os.environ.get("C360_AUDIENCES", ROOT / "dbt_project" / "audiences.yml")),
        access_file=Path(os.environ.get("C360_ACCESS", ROOT / "governance" / "access.yml")),
        retention_file=Path(os.environ.get("C360_RETENTION", ROOT / "governance" / "retention.yml")),
        user=os.environ.get("C360_USER") or getpass.getuser(),
        stock_event_storage=os.environ.get("C360_STOCK_EVENT_STORAGE", "").lower() in TRUE,
        slow_exit=os.environ.get("C360_SLOW_EXIT", "").lower() in TRUE,
        api_rate_limit=int(os.environ.get("C360_API_RATE_LIMIT", "1000")),
        api_token_days=int(os.environ.get("C360_API_TOKEN_DAYS", "90")),
        dbt_threads=int(threads) if (threads := os.environ.get("C360_DBT_THREADS", "auto")) != "auto" else None,
        spark_master=os.environ.get("C360_SPARK_MASTER", ""),
        spark_host=os.environ.get("C360_SPARK_HOST", "127.0.0.1"),
        spark_master_port=int(os.environ.get("C360_SPARK_MASTER_PORT", "7077")),
        spark_ui_port=int(os.environ.get("C360_SPARK_UI_PORT", "8080")),
        spark_worker_cores=int(os.environ.get("C360_SPARK_WORKER_CORES", "1")),
        spark_worker_memory=os.environ.get("C360_SPARK_WORKER_MEMORY", "3g"),
        spark_executor_memory=os.environ.get("C360_SPARK_EXECUTOR_MEMORY", "2g"),
        spark_driver_memory=os.environ.get("C360_SPARK_DRIVER_MEMORY", "2g"),
        spark_shuffle_partitions=int(os.environ.get("C360_SPARK_SHUFFLE_PARTITIONS", "4")),
        spark_connect_port=int(os.environ.get("C360_SPARK_CONNECT_PORT", "15002")),
        spark_remote=os.environ.get("C360_SPARK_REMOTE", ""),
        dagster_storage=(storage := Path(os.environ.get("C360_DAGSTER_STORAGE", data_dir / "dagster")).resolve()),
        dagster_logs=Path(os.environ.get("C360_DAGSTER_LOGS", storage / "logs")).resolve(),
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
