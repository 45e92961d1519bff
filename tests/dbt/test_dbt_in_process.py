"""In-process dbt keeps its parsed project for the next invocation, and parses again when that would differ.

Real dbt parses of a copy of the project (no database is opened): the kept manifest is the same object while
nothing changed, and a new one after a model file or a variable the project reads changes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from c360_core.settings import environ as env
from c360_core.settings import settings
from orchestration.defs.dbt import in_process
from orchestration.defs.dbt.project import DBT_DIR


@pytest.fixture
def project(tmp_path: Path) -> dict[str, str]:
    """A copy of the dbt project and the environment a dagster-dbt invocation of it would have."""
    copy = tmp_path / "dbt_project"
    shutil.copytree(DBT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return {
        **settings().environment(),  # the profile and macros read every setting, with no default of their own
        "DBT_PROJECT_DIR": str(copy),
        "DBT_PROFILES_DIR": str(copy),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "target"),
        "C360_TARGET": "duckdb",
        "C360_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "C360_AS_OF_DATE": "2026-02-15",
    }


def _manifest():
    events = []
    manifest = in_process._manifest(["build"], events.append)
    in_process._release_connections()
    return manifest


def test_the_parsed_project_is_kept_until_a_file_or_a_variable_it_read_changes(project):
    with env(project):
        first = _manifest()
        assert first is not None and first.env_vars["C360_AS_OF_DATE"] == "2026-02-15"
        assert _manifest() is first  # nothing changed: no second parse

        with env({"DBT_INDIRECT_SELECTION": "empty"}):  # a run-time flag dagster-dbt sets per invocation
            assert _manifest() is first

        model = Path(project["DBT_PROJECT_DIR"]) / "models" / "marts" / "customer" / "customer_360.sql"
        stat = model.stat()
        os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        edited = _manifest()
        assert edited is not first

        with env({"C360_AS_OF_DATE": "2026-03-01"}):
            later = _manifest()
            assert later is not edited and later.env_vars["C360_AS_OF_DATE"] == "2026-03-01"
        assert _manifest().env_vars["C360_AS_OF_DATE"] == "2026-02-15"


def test_a_variable_the_project_reads_outside_the_key_is_checked_too(project):
    """The key holds the C360_* and DBT_* variables; any other one a model reads is checked from the manifest."""
    probe = Path(project["DBT_PROJECT_DIR"]) / "models" / "staging" / "probe.sql"
    probe.write_text("select '{{ env_var('PROBE_VALUE', 'unset') }}' as probe\n")
    with env(project):
        os.environ.pop("PROBE_VALUE", None)
        unset = _manifest()
        assert _manifest() is unset  # read with its default, and still unset
        with env({"PROBE_VALUE": "one"}):
            one = _manifest()
            assert one is not unset and one.env_vars["PROBE_VALUE"] == "one"
            assert _manifest() is one
