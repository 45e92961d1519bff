"""Compat: pyspark's Spark Connect session class (pyspark.sql.connect.session), the one place c360 touches it.

The documented `SparkSession.builder.remote(url).getOrCreate()` returns the process's default session, and
`create()` makes a new one the default: either way dbt, run in the same process (its `session` method calls
`getOrCreate()`), would share it, and closing a warehouse would end dbt's session. The class's own
constructor makes a session that is nobody's default.

A Connect client that was never closed talks to its server once more as the interpreter exits (an atexit hook
that retries for minutes when the server is gone); `close_default_session` closes dbt's after each dbt run.

`tests/test_compat.py` fails when the installed version differs from CHECKED: re-read this module then.
"""

from __future__ import annotations

import logging
import sys
import warnings

CHECKED = {"pyspark": "4.3.0"}


def own_session(url: str):
    """A Spark Connect session of the caller's own, at `sc://host:port`."""
    with warnings.catch_warnings():  # pyspark 4.3 warns about pandas 3, which c360 locks (docs/scale.md)
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        from pyspark.sql.connect.session import SparkSession  # noqa: PLC0415  (heavy: only where Spark is used)

    # an error the server replies is raised to the caller; these loggers would print it again, with the JVM's
    # stack, and warn when a closed session's last replies are released
    for name in ("SQLQueryContextLogger", "pyspark.sql.connect.logging"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return SparkSession(connection=url)


def close_default_session() -> None:
    """Close the process's default Connect session (the one dbt's `session` method made), if there is one."""
    if "pyspark.sql.connect.session" not in sys.modules:  # no Spark Connect in this process: nothing to close
        return
    from pyspark.sql.connect.session import SparkSession  # noqa: PLC0415

    session = SparkSession._get_default_session()
    if session is not None:
        session.stop()
