"""The ML tests' (and the API's) warehouse: a landing zone long enough for the models (a train cutoff 180
days back with history before it), built end to end once per target by a real Dagster run that trains, gates
and scores."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.config import GeneratorConfig
from simulator.generate import generate
from tests.support.warehouse import TARGETS, drop_database, env, materialize_all, require_postgres, target_env

ML_START, ML_END = dt.date(2025, 10, 3), dt.date(2026, 8, 28)  # 330 days: 151 days of history at the train cutoff
ML_AS_OF = ML_END + dt.timedelta(days=1)
CUSTOMERS = 1500


def ml_env(target: str, data_dir: Path, database: str) -> dict[str, str]:
    return {**target_env(target, data_dir, database), "C360_AS_OF_DATE": ML_AS_OF.isoformat()}


@pytest.fixture(scope="session")
def ml_landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ml_source") / "landing"
    # daily order files: the same orders, 240 files instead of 23,000 (the loader cost is per file)
    # fraud-like orders at five times the default rate: enough in each 90-day horizon to judge the detector
    generate(GeneratorConfig(customers=CUSTOMERS, seed=5, start=ML_START, end=ML_END, out=root, quiet=True,
                             order_batch_minutes=1440, fraud_rate=0.01))  # fmt: skip
    return root


def build(landing: Path, data_dir: Path, target: str, select: str = "*") -> dict[str, str]:
    shutil.copytree(landing, data_dir / "landing")
    values = ml_env(target, data_dir, f"c360_test_{uuid.uuid4().hex[:8]}")
    with env(values):
        assert materialize_all(select), f"the materialization {select!r}, ML included, failed on {target}"
    return values


@pytest.fixture(scope="session", params=TARGETS)
def ml_built(request, ml_landing, tmp_path_factory) -> Iterator[dict[str, str]]:
    """The whole pipeline on one target, ML included; yields its environment."""
    if request.param == "postgres":
        require_postgres()
    values = build(ml_landing, tmp_path_factory.mktemp(f"ml_{request.param}"), request.param)
    yield values
    if request.param == "postgres":
        drop_database(values["C360_PG_DATABASE"])
