"""All configuration comes from environment variables, chosen here and nowhere else."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from c360_cli import telemetry  # noqa: F401  (telemetry off before any tool is imported)

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
    partitions_start: dt.date
    alert_webhook_url: str
    shop_database: str
    quality_min_score: float | None  # overrides quality/thresholds.yml for every dataset when set

    @property
    def landing(self) -> Path:
        return self.data_dir / "landing"

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
        # the first day any time-partitioned source has a partition for
        partitions_start=dt.date.fromisoformat(os.environ.get("C360_PARTITIONS_START", "2025-01-01")),
        alert_webhook_url=os.environ.get("C360_ALERT_WEBHOOK_URL", ""),
        # the shop's own database (schema `shop`); by default the warehouse database's server and name
        shop_database=os.environ.get("C360_SHOP_DATABASE", os.environ.get("C360_PG_DATABASE", "c360")),
        quality_min_score=float(min_score) if (min_score := os.environ.get("C360_QUALITY_MIN_SCORE")) else None,
    )


def warehouse_tags(cfg: Settings | None = None) -> dict[str, str]:
    """Every run that writes the warehouse carries this tag; dagster.yaml allows one such run at a time."""
    return {"c360/warehouse": (cfg or settings()).target}


REPO_ROOT = Path(__file__).resolve().parents[2]


def dagster_env(cfg: Settings | None = None) -> dict[str, str]:
    """DAGSTER_HOME is the repository (dagster.yaml lives there); storage goes under $C360_DATA_DIR."""
    cfg = cfg or settings()
    return {
        "DAGSTER_HOME": str(REPO_ROOT),
        "C360_DAGSTER_STORAGE": str(cfg.data_dir / "dagster"),
        "C360_DAGSTER_LOGS": str(cfg.data_dir / "dagster" / "logs"),
    }


def export_dagster_env() -> None:
    for name, value in dagster_env().items():
        os.environ.setdefault(name, value)
