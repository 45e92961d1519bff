"""Compat: CPython's exit handlers (`atexit._run_exitfuncs`), for the CLI's fast exit.

Freeing every module and object of Dagster, dbt and DuckDB at interpreter exit took 0.6-1.6 s of each `c360`
command (measured on the definitions alone), a tenth of an hourly cycle. So the CLI runs the exit handlers
itself (MLflow ends its runs, dbt-duckdb closes its database: the work of an exit), flushes its output and
ends the process with os._exit. `atexit` has no public way to run its handlers early. C360_SLOW_EXIT=true
exits the ordinary way.

`tests/test_compat.py` fails when the Python version differs from CHECKED: re-read this module then.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys

from c360_core.settings import settings

CHECKED = {"python": "3.11"}


def exit_now(code: int) -> None:
    """End the process with `code`, after the exit handlers and with the output flushed."""
    if settings().slow_exit:
        sys.exit(code)
    atexit._run_exitfuncs()  # what interpreter exit would run first
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
