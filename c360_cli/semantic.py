"""`c360 mf`: MetricFlow's CLI pointed at the configured warehouse (docs/semantic-layer.md); each call is
recorded in audit.access_log."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import c360_core.telemetry  # noqa: F401  (before dbt and mf start)
from c360_core.settings import settings
from c360_core.warehouse import connect
from governance.audit import Access, record
from orchestration.defs.dbt.assets import dbt_env
from orchestration.defs.dbt.project import DBT_DIR, DBT_EXECUTABLE, project_target

MF = Path(sys.executable).parent / "mf"


def run_mf(args: list[str]) -> int:
    """`mf` reads dbt_project/target/semantic_manifest.json, whose relations name one database:
    re-parse for this warehouse (a few seconds), then run mf with the same environment."""
    env = {**os.environ, **dbt_env()}
    parse = [str(DBT_EXECUTABLE), "parse", "--quiet", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    with project_target():  # another warehouse's mf call waits: the manifest is this one's until mf has read it
        parsed = subprocess.run(parse, env=env, cwd=DBT_DIR, check=False)
        if parsed.returncode:
            return parsed.returncode
        started, clock = dt.datetime.now(dt.UTC).replace(tzinfo=None), time.perf_counter()
        code = subprocess.run([str(MF), *args], env=env, cwd=DBT_DIR, check=False).returncode
    cfg = settings()
    role = "owner" if cfg.target == "duckdb" else cfg.pg_user
    error = None if code == 0 else f"mf exited with {code}"
    access = Access("mf", shlex.join(["mf", *args]), role, started, (time.perf_counter() - clock) * 1000, None, error)
    with connect(cfg) as wh:
        record(wh, access, cfg.target)
    return code
