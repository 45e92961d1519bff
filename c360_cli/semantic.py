"""`c360 mf`: MetricFlow's CLI pointed at the configured warehouse (docs/semantic-layer.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import c360_core.telemetry  # noqa: F401  (before dbt and mf start)
from c360_core.settings import settings
from orchestration.defs.dbt.assets import dbt_env
from orchestration.defs.dbt.project import DBT_DIR, DBT_EXECUTABLE

MF = Path(sys.executable).parent / "mf"


def run_mf(args: list[str]) -> int:
    """`mf` reads dbt_project/target/semantic_manifest.json, whose relations name one database:
    re-parse for this warehouse (a few seconds), then run mf with the same environment."""
    env = {**os.environ, **dbt_env(), "C360_AS_OF_DATE": settings().as_of_date.isoformat()}
    parse = [str(DBT_EXECUTABLE), "parse", "--quiet", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    parsed = subprocess.run(parse, env=env, cwd=DBT_DIR, check=False)
    if parsed.returncode:
        return parsed.returncode
    return subprocess.run([str(MF), *args], env=env, cwd=DBT_DIR, check=False).returncode
