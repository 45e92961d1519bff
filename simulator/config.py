"""Generation settings and the calendar helpers every source shares."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAX_DEFECT_RATE = 0.1  # kinds are mutually exclusive per record, so 6 kinds x rate must stay <= 1


def default_data_dir() -> Path:
    return Path(os.environ.get("C360_DATA_DIR", "./data"))


@dataclass(frozen=True)
class GeneratorConfig:
    customers: int = 10_000
    seed: int = 42
    start: dt.date = field(default_factory=lambda: dt.date.today() - dt.timedelta(days=365))
    end: dt.date = field(default_factory=lambda: dt.date.today() - dt.timedelta(days=1))
    defects: float = 0.0
    fraud_rate: float = 0.002  # planted fraud-like events per regular order (simulator/fraud.py)
    out: Path = field(default_factory=lambda: default_data_dir() / "landing")
    order_batch_minutes: int = 15
    quiet: bool = False
    compress: str = "none"  # none | gzip | zstd: landing files as they are, .gz or .zst
    workers: int = 0  # processes writing files, 0 = one per core from 1M customer-days; the bytes never depend on it

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError("--customers must be at least 1")
        if self.end < self.start:
            raise ValueError(f"--end ({self.end}) is before --start ({self.start})")
        if not 0.0 <= self.defects <= MAX_DEFECT_RATE:
            raise ValueError(f"--defects must be between 0 and {MAX_DEFECT_RATE}, got {self.defects}")
        if not 0.0 <= self.fraud_rate <= 0.1:
            raise ValueError(f"--fraud-rate must be between 0 and 0.1, got {self.fraud_rate}")
        if self.compress not in ("none", "gzip", "zstd"):
            raise ValueError(f"--compress must be none, gzip or zstd, got {self.compress!r}")
        if self.workers < 0:
            raise ValueError("--workers must be at least 1 (or 0: automatic)")
        if self.order_batch_minutes <= 0 or 1440 % self.order_batch_minutes:
            raise ValueError("--order-batch-minutes must divide a day (e.g. 5, 15, 60)")

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def writer_processes(self) -> int:
        """Worker processes that write files beside the simulating one; 1 = all in one process.

        Below a million customer-days, starting processes costs more than it saves.
        """
        if self.workers:
            return self.workers
        return (os.cpu_count() or 1) if self.customers * self.n_days >= 1_000_000 else 1

    @property
    def n_products(self) -> int:
        return int(min(5000, max(300, self.customers // 10)))

    @property
    def n_brands(self) -> int:
        return int(min(200, max(30, self.n_products // 20)))

    def day(self, index: int) -> dt.date:
        return self.start + dt.timedelta(days=index)

    def day_start(self, index: int) -> np.datetime64:
        """Midnight UTC of day `index`, in seconds."""
        return np.datetime64(self.day(index), "s")

    def rng(self, *stream: int) -> np.random.Generator:
        """An independent, reproducible random stream for (seed, *stream).

        Each source and each day draws from its own stream, so output does not
        depend on the order work is done in, and defects (their own stream)
        never shift the clean data.
        """
        return np.random.default_rng([self.seed, *stream])


NEVER = np.iinfo(np.int32).max  # the day of an event that does not happen (an expecting day, a discontinuation)

# Stream identifiers for GeneratorConfig.rng.
STREAM_CATALOG, STREAM_PRICES, STREAM_PEOPLE, STREAM_SHOP, STREAM_WEB, STREAM_CRM, STREAM_DEFECTS = range(7)
STREAM_CHANNEL = 9  # the channel each customer responds to (population.py, web.py)
STREAM_FRAUD = 8  # the planted fraud-like orders (fraud.py)
STREAM_RETIRED = 10  # the products discontinued during the period (catalog.py)
STREAM_TASTE = 7  # the styles (catalog.py, population.py) and the picks they steer


def iso(ts: np.ndarray) -> list[str]:
    """ISO 8601 UTC strings ('2026-01-31T10:15:00Z') for datetime64[s] values."""
    return np.char.add(np.datetime_as_string(ts.astype("datetime64[s]"), unit="s"), "Z").tolist()
