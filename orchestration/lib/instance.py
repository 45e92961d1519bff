"""The Dagster instance c360 runs use: DAGSTER_HOME and its storage, and the one-writer run tag."""

from __future__ import annotations

import os
from pathlib import Path

from c360_core.settings import Settings, settings


def warehouse_tags(cfg: Settings | None = None) -> dict[str, str]:
    """Every run that writes the warehouse carries this tag; dagster.yaml allows one such run at a time."""
    return {"c360/warehouse": (cfg or settings()).target}


REPO_ROOT = Path(__file__).resolve().parents[2]


def dagster_env(cfg: Settings | None = None) -> dict[str, str]:
    """DAGSTER_HOME is the repository (dagster.yaml lives there) unless set; the storage is the settings'."""
    cfg = cfg or settings()
    return {
        "DAGSTER_HOME": os.environ.get("DAGSTER_HOME", str(REPO_ROOT)),
        "C360_DAGSTER_STORAGE": str(cfg.dagster_storage),
        "C360_DAGSTER_LOGS": str(cfg.dagster_logs),
    }


def export_dagster_env() -> None:
    os.environ.update(dagster_env())
