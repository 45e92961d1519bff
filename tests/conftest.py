"""Guards for the whole suite."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration.defs.dbt.project import ensure_manifest

# the Dagster definitions read the parsed dbt project and never parse it themselves: parse it once, first
ensure_manifest()

# the warehouse fixtures, for every test folder
from tests.support.browser import chromium  # noqa: E402, F401
from tests.support.ml_warehouse import ml_built, ml_landing  # noqa: E402, F401
from tests.support.warehouse import built, forked, fresh, instance, landing, spark_cluster  # noqa: E402, F401
from tests.support.xdist_compat import TargetScheduling  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# what a test run may write in the repository: Python's and the tools' own caches
CACHES = {".git", ".venv", ".pytest_cache", ".ruff_cache", "__pycache__"}


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_POOL_ERRORS = _Errors()
logging.getLogger("sqlalchemy.pool").addHandler(_POOL_ERRORS)


@pytest.fixture(autouse=True)
def dagster_storage_under_the_tests_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """A `c360 materialize` run inside a test keeps its Dagster storage under the test's C360_DATA_DIR (the CLI
    derives it from there), never under the repository's data/, which the Makefile's exports point at."""
    monkeypatch.delenv("C360_DAGSTER_STORAGE", raising=False)
    monkeypatch.delenv("C360_DAGSTER_LOGS", raising=False)


@pytest.fixture(autouse=True)
def no_connection_closed_in_the_wrong_thread() -> Iterator[None]:
    """A SQLite connection used or closed by a thread that did not open it is an error SQLAlchemy only logs
    ("SQLite objects created in a thread can only be used in that same thread"): here it fails the test in
    which it happened (a Dagster instance's event log, say, disposed by the garbage collector elsewhere)."""
    start = len(_POOL_ERRORS.records)
    yield
    found = _POOL_ERRORS.records[start:]
    assert not found, [f"{r.getMessage()}: {r.exc_info[1] if r.exc_info else ''}" for r in found]


def _tree() -> dict[str, tuple[int, int]]:
    """Every file of the repository (its data/ folder included), with its size and modification time."""
    found = {}
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in CACHES]
        for name in names:
            path = os.path.join(folder, name)
            with contextlib.suppress(FileNotFoundError):
                stat = os.stat(path)
                found[os.path.relpath(path, ROOT)] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.fixture(scope="session", autouse=True)
def nothing_left_in_the_project() -> Iterator[None]:
    """Tests write only in their own temporary folders: a file of the repository added, changed or removed
    by the run (a dbt log, a manifest naming a test warehouse) fails it at the end."""
    before = _tree()
    yield
    after = _tree()
    # make screenshots asks the browser tests to refresh docs/img (C360_SCREENSHOTS)
    allowed = os.path.relpath(os.environ["C360_SCREENSHOTS"], ROOT) if os.environ.get("C360_SCREENSHOTS") else None
    changed = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path)
                     and not (allowed and path.startswith(allowed + os.sep)))  # fmt: skip
    assert changed == [], f"the tests left these in the repository: {changed[:20]}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--zone-customers", type=int, default=None,
                     help="customers in the shared warehouses' landing zones (default 300; 200 on Spark): "
                          "e.g. the reconciliation tests on 3,000 (docs/scale.md)")  # fmt: skip


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`make test` runs two pytest-xdist workers, which hand out whole groups (tests/support/xdist_compat.py).
    Every PostgreSQL test is one group and every DuckDB test another, so each worker builds only its own
    target's shared warehouses, and only one worker ever changes the server's roles (they are cluster-wide).
    The tests of neither target go by module (a module's fixtures are built once), to whichever worker is free."""
    return TargetScheduling(config, log) if config.getvalue("dist") == "loadgroup" else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The `postgres` mark is on exactly the tests that run on the PostgreSQL target (a parameter
    "postgres"), so `-m "not postgres"` runs everything else and nothing of PostgreSQL. A `duckdb_only` test's
    PostgreSQL instances are deselected (it was written for one target; nothing is skipped). A test runs on
    the Spark target only where it says so (`on_spark`): its other Spark instances are deselected."""
    only = [i for i in items if (i.get_closest_marker("duckdb_only")
                                 and "postgres" in getattr(getattr(i, "callspec", None), "params", {}).values())
            or (not i.get_closest_marker("on_spark")
                and "spark" in getattr(getattr(i, "callspec", None), "params", {}).values())]  # fmt: skip
    if only:
        config.hook.pytest_deselected(items=only)
        items[:] = [i for i in items if i not in only]
    wrong = []
    for item in items:
        on_postgres = "postgres" in getattr(getattr(item, "callspec", None), "params", {}).values()
        if on_postgres != (item.get_closest_marker("postgres") is not None):
            wrong.append(item.nodeid)
    if wrong:
        raise pytest.UsageError(f"the postgres mark is missing or too much on: {wrong}")
