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
from orchestration.defs.dbt.project import DBT_DIR, DBT_EXECUTABLE, dbt_env, locked

MF = Path(sys.executable).parent / "mf"


def project_view(data_dir: Path, target: str) -> Path:
    """A view of the dbt project for one warehouse: the project's files by symbolic link, and a `target/` of
    its own. `mf` reads `<project>/target/semantic_manifest.json`, whose relations name one warehouse; parsed
    into the project's own target/ it would name the last warehouse anyone queried (a test's, say) for the
    next plain `mf` run in dbt_project/."""
    view = data_dir / "mf" / target
    view.mkdir(parents=True, exist_ok=True)
    for entry in DBT_DIR.iterdir():
        link = view / entry.name
        if entry.name not in ("target", "logs", "dbt_packages") and not link.is_symlink():
            link.symlink_to(entry)
    return view


def run_mf(args: list[str]) -> int:
    """Re-parse the project for this warehouse into its own view (a few seconds), then run `mf` there with
    the same environment."""
    cfg = settings()
    if cfg.target == "spark":
        print("c360 mf: MetricFlow's CLI runs its SQL through a dbt adapter it knows, and dbt-spark is not one of "
              "them. On Spark, read a saved query's answer from its table (c360 sql \"select * from "
              "semantic.<saved query>\"), which c360 builds from MetricFlow's SQL on the cluster "
              "(docs/semantic-layer.md).", file=sys.stderr)  # fmt: skip
        return 2
    view = project_view(cfg.data_dir, cfg.target)
    env = {**os.environ, **dbt_env(), "DBT_PROJECT_DIR": str(view), "DBT_PROFILES_DIR": str(view)}
    parse = [str(DBT_EXECUTABLE), "parse", "--quiet", "--project-dir", str(view), "--profiles-dir", str(view)]
    with locked(view):  # another call on this warehouse waits: the manifest is this one's until mf has read it
        parsed = subprocess.run(parse, env=env, cwd=view, check=False)
        if parsed.returncode:
            return parsed.returncode
        started, clock = dt.datetime.now(dt.UTC).replace(tzinfo=None), time.perf_counter()
        code = subprocess.run([str(MF), *args], env=env, cwd=view, check=False).returncode
    cfg = settings()
    role = "owner" if cfg.target == "duckdb" else cfg.pg_user
    error = None if code == 0 else f"mf exited with {code}"
    access = Access("mf", shlex.join(["mf", *args]), role, started, (time.perf_counter() - clock) * 1000, None, error)
    with connect(cfg) as wh:
        record(wh, access, cfg.target)
    return code
