"""dbt's unit tests (the `unit_tests:` blocks of dbt_project/models), on each target.

Production builds skip them (orchestration/defs/dbt/assets.py); here every one of them must run and pass.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from governance.pii import DBT_PROJECT
from orchestration.defs.dbt.project import dbt_env
from tests.support.warehouse import env


def _declared() -> set[str]:
    """The unit tests the project's YAML declares, read from the files, not from dbt."""
    names = set()
    for path in (DBT_PROJECT / "models").rglob("*.yml"):
        names |= {t["name"] for t in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", [])}
    return names


def test_every_dbt_unit_test_passes(forked, tmp_path):
    declared = _declared()
    assert len(declared) >= 6, sorted(declared)
    dbt = Path(sys.executable).parent / "dbt"
    args = [str(dbt), "test", "--select", "test_type:unit", "--project-dir", str(DBT_PROJECT),
            "--profiles-dir", str(DBT_PROJECT), "--target-path", str(tmp_path / "target"),
            "--log-path", str(tmp_path / "target")]  # fmt: skip
    with env(forked), env(dbt_env()):  # every setting, as c360 passes them to dbt
        done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
    lines = [line for line in done.stdout.splitlines() if " PASS " in line and "::" in line]
    passed = {line.split("::", 1)[1].split()[0] for line in lines}  # "1 of 6 PASS model::name ... [PASS]"
    assert passed == declared, (sorted(declared - passed), done.stdout[-3000:])
