"""Small generated landing zones shared by the simulator tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from simulator.config import GeneratorConfig
from simulator.generate import generate

START, END = dt.date(2026, 1, 1), dt.date(2026, 2, 28)


def make(root: Path, **overrides) -> GeneratorConfig:
    args = {"customers": 400, "seed": 7, "start": START, "end": END, "out": root, "quiet": True} | overrides
    cfg = GeneratorConfig(**args)
    generate(cfg)
    return cfg


@pytest.fixture(scope="session")
def clean(tmp_path_factory) -> GeneratorConfig:
    return make(tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="session")
def defective(tmp_path_factory) -> GeneratorConfig:
    # seed 12: at 2%, the first seed that plants every kind in these two months (brands are few: ~40 a file,
    # so a brand kind has a one-in-five chance of no record at all)
    return make(tmp_path_factory.mktemp("defective"), defects=0.02, customers=600, seed=12)
