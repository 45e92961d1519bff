"""dbt run inside the Dagster process, where dagster-dbt would start a `dbt` subprocess.

A dbt process imports dbt again (~2 s) and, on DuckDB, tears down slowly; an hourly cycle pays that on
every dbt invocation, and a first materialize three times. `InProcessDbt` runs the same command with
dbt's programmatic runner (`dbtRunner`) in a thread of this process and looks, to dagster-dbt's
`DbtCliInvocation`, like the `subprocess.Popen` it would have made: `stdout` yields dbt's JSON log lines
(the same dicts dbt's JSON logger writes), `wait()` gives an exit code, `args` the command. So every
dagster-dbt feature that reads those lines (events, asset checks, errors) works unchanged.

The parsed project (dbt's Manifest) is kept for the next invocation of this process while nothing it
was parsed from has changed: the project's files, c360's and dbt's environment variables (and any other
the manifest records having read) and the command's project flags. A first materialize makes three
invocations (the Python assets between dbt models split them); each would load the partial parse again
and write the manifest (0.3-0.9 s each).

`C360_DBT_IN_PROCESS=false` goes back to the subprocess.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

from dbt.adapters.factory import reset_adapters
from dbt.cli.main import dbtRunner
from dbt.constants import DEFAULT_ENV_PLACEHOLDER  # what the manifest records for an unset variable
from dbt_common.events.functions import msg_to_dict

from c360_core.settings import environ
from c360_core.spark_compat import close_default_session
from orchestration.compat.dagster_dbt import dbt_process_replaced
from orchestration.compat.dbt_duckdb import close_dbt_duckdb_database
from orchestration.defs.dbt.project import project_files

_DONE = object()
# dagster-dbt passes these to the subprocess as environment: here, the invocation sets them while it runs.
# DBT_LOG_FORMAT is left out: it would make the file log JSON too, and the callback gets every event anyway.
_DBT_ENV_SKIPPED = {"DBT_LOG_FORMAT"}


class _Lines:
    """A read-only "pipe" of JSON log lines: what DbtCliInvocation iterates as the process's stdout."""

    def __init__(self):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.closed = False

    def put(self, line: bytes) -> None:
        self._queue.put(line)

    def finish(self) -> None:
        self._queue.put(_DONE)

    def __iter__(self) -> Iterator[bytes]:
        while (line := self._queue.get()) is not _DONE:
            yield line

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.closed = True


class InProcessDbt:
    """One dbt command run by dbtRunner in a thread, shaped like subprocess.Popen (args, stdout, wait, returncode,
    send_signal) for dagster-dbt."""

    def __init__(self, args, env=None, cwd=None, **_popen_kwargs):
        self.args = list(args)
        self.stdout = _Lines()
        self.returncode: int | None = None
        changed = {k: v for k, v in (env or {}).items() if k.startswith("DBT_") and k not in _DBT_ENV_SKIPPED}
        self._thread = threading.Thread(target=self._run, args=(changed,), name="dbt", daemon=True)
        self._thread.start()

    def _event(self, msg) -> None:
        if msg.info.level == "debug":  # what dbt's console logger leaves out at its default level
            return
        self.stdout.put(json.dumps(msg_to_dict(msg), default=str).encode())

    def _run(self, env: dict[str, str]) -> None:
        try:
            with environ(env):
                manifest = _manifest(self.args[1:], self._event)
                # --log-level none: no console output from dbt here (dagster-dbt prints what it streams);
                # the callback still gets every event, and dbt.log is written as before
                runner = dbtRunner(manifest=manifest, callbacks=[self._event])
                result = runner.invoke([*self.args[1:], "--log-level", "none"])
            self.returncode = 0 if result.success else (2 if result.exception else 1)
            if result.exception is not None:
                self._error(f"dbt failed: {result.exception}")
        except BaseException as err:  # reported as the "process" failing, like a crash
            self.returncode = 2
            self._error(f"dbt failed: {err!r}")
        finally:
            _release_connections()
            self.stdout.finish()

    def _error(self, text: str) -> None:
        line = {"info": {"level": "error", "msg": text, "name": "C360InProcessError"}, "data": {}}
        self.stdout.put(json.dumps(line).encode())

    def wait(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        return self.returncode

    def send_signal(self, sig) -> None:
        """dbt in a thread cannot be interrupted: the invocation runs to its end, as a node in flight would."""


# flags that change what a parse gives; the rest (selection, --full-refresh, ...) only change what runs
_PARSE_FLAGS = ("--project-dir", "--profiles-dir", "--target-path", "--target", "--profile", "--vars")
# What a parse reads from the environment: dbt's own variables and c360's settings (the project and the
# profile read no others; a parse key still checks every variable the manifest says it read)
_ENV_PREFIXES = ("DBT_", "C360_")
# dbt's own environment variables that change nothing a parse gives (dagster-dbt sets them per invocation)
_RUNTIME_ENV = ("DBT_INDIRECT_SELECTION", "DBT_LOG_PATH", "DBT_LOG_FORMAT")
_parsed: dict[tuple, object] = {}  # parse key -> dbt's Manifest; the newest few
_KEEP = 2


def _parse_key(args: list[str]) -> tuple:
    """What a parse of the project depends on: the project's files (names and modification times), the
    environment (env_var() in the project and the profile) and the command's project flags."""
    flags = tuple((f, args[i + 1]) for i, f in enumerate(args[:-1]) if f in _PARSE_FLAGS)
    project = Path(dict(flags).get("--project-dir") or os.environ.get("DBT_PROJECT_DIR") or ".")
    files = tuple(sorted((str(p), p.stat().st_mtime_ns) for p in project_files(project)))
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES) and k not in _RUNTIME_ENV))
    return flags, files, env


def _fresh(key: tuple):
    """The kept manifest for this key, if every environment variable the project read is as it was."""
    manifest = _parsed.get(key)
    if manifest is None:
        return None
    unchanged = all(os.environ.get(k, DEFAULT_ENV_PLACEHOLDER) == v for k, v in manifest.env_vars.items())
    return manifest if unchanged else None


def _parse(key: tuple, callback):
    """Parse the project as the command of this key would, and keep the manifest (None if the parse fails)."""
    flags = [part for f, v in key[0] for part in (f, v)]
    result = dbtRunner(callbacks=[callback]).invoke(["parse", *flags, "--log-level", "none"])
    if not result.success:  # the command itself then reports the parse error, as before
        return None
    _parsed[key] = result.result
    while len(_parsed) > _KEEP:
        _parsed.pop(next(iter(_parsed)))
    return result.result


def _manifest(args: list[str], callback):
    """The project parsed as this command would parse it: kept from an earlier invocation, else parsed now."""
    key = _parse_key(args)
    return _fresh(key) or _parse(key, callback)


def _release_connections() -> None:
    """Close the warehouse as a dbt process's exit would: dbt-duckdb keeps its database open until
    interpreter exit (an atexit hook), and the loaders of the next run open the same file; dbt-spark's Spark
    Connect session would stay open until then (c360_core/spark_compat.py)."""
    reset_adapters()
    close_dbt_duckdb_database()
    close_default_session()


def dbt_in_process() -> contextlib.AbstractContextManager[None]:
    """While active, dagster-dbt's DbtCliInvocation starts InProcessDbt where it would start a process."""
    return dbt_process_replaced(InProcessDbt)
