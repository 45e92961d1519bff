"""Guards for the whole suite."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_POOL_ERRORS = _Errors()
logging.getLogger("sqlalchemy.pool").addHandler(_POOL_ERRORS)


@pytest.fixture(autouse=True)
def no_connection_closed_in_the_wrong_thread() -> Iterator[None]:
    """A SQLite connection used or closed by a thread that did not open it is an error SQLAlchemy only logs
    ("SQLite objects created in a thread can only be used in that same thread"): here it fails the test in
    which it happened (a Dagster instance's event log, say, disposed by the garbage collector elsewhere)."""
    start = len(_POOL_ERRORS.records)
    yield
    found = _POOL_ERRORS.records[start:]
    assert not found, [f"{r.getMessage()}: {r.exc_info[1] if r.exc_info else ''}" for r in found]
