"""`make test` runs the suite in two pytest-xdist workers, one per core, as two fixed halves.

Most of the suite keeps one core busy (Dagster, dbt and Python between DuckDB's parallel moments), so
two halves side by side take about half the time. Each half runs in one worker in pytest's usual order,
so a session warehouse (built per target) is built once: the model tests (ml_built) and the tests that
start from an empty warehouse (crash, incremental) make one half; everything on `built` the other.
"""

from __future__ import annotations

import pytest

FIRST_HALF = ("tests/ml/", "tests/warehouse/test_crash.py", "tests/warehouse/test_incremental.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        half = "first" if item.nodeid.startswith(FIRST_HALF) else "second"
        item.add_marker(pytest.mark.xdist_group(half))
