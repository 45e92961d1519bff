"""Every default is defined once, in c360_core/settings.py: dbt and the Makefile take the values from there."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from c360_core.settings import environ as env
from c360_core.settings import settings
from c360_core.warehouse import connect
from orchestration.defs.dbt import assets

ROOT = Path(__file__).resolve().parents[1]
# env_var('NAME') or env_var('NAME', 'default') in a Jinja expression
ENV_VAR = re.compile(r"""env_var\(\s*['"](\w+)['"]\s*(?:,\s*(['"])(.*?)\2\s*)?\)""")


def _dbt_env_reads() -> list[tuple[str, str, str | None]]:
    found = []
    files = [ROOT / "dbt_project" / "profiles.yml", *(ROOT / "dbt_project" / "macros").rglob("*.sql"),
             *(ROOT / "dbt_project" / "models").rglob("*.sql"), ROOT / "dbt_project" / "dbt_project.yml"]  # fmt: skip
    for path in files:
        for name, _, default in ENV_VAR.findall(path.read_text()):
            found.append((path.name, name, default))
    return found


def test_dbt_reads_the_settings_without_defaults_of_its_own():
    reads = _dbt_env_reads()
    assert {name for _, name, _ in reads} >= {"C360_TARGET", "C360_DUCKDB_PATH", "C360_AS_OF_DATE", "C360_PII_SALT"}
    # '' is "unset" (the macro then says how to set it); any other default would be a second definition.
    # C360_TEST_WINDOW is no setting: dbt's own switch, which only the dbt asset passes
    second = [(f, n, d) for f, n, d in reads if d and n != "C360_TEST_WINDOW"]
    assert second == [], second
    # and every C360 variable dbt reads is a setting, with its default filled in for each invocation
    given = settings().environment()
    missing = {n for _, n, _ in reads if n.startswith("C360_") and n != "C360_TEST_WINDOW"} - set(given)
    assert missing == set(), missing


def test_the_makefile_defines_no_setting():
    makefile = (ROOT / "Makefile").read_text()
    assigned = re.findall(r"^(?:export\s+)?(C360_\w+|MLFLOW_TRACKING_URI|DAGSTER_HOME)\s*[:?+]?=", makefile, re.M)
    assert assigned == [], assigned


def test_c360_env_gives_a_shell_the_settings(tmp_path):
    values = {"C360_DATA_DIR": str(tmp_path / "somewhere"), "C360_TARGET": "postgres", "C360_PG_PORT": "6543"}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("C360_") and k != "MLFLOW_TRACKING_URI"}
    c360 = Path(sys.executable).parent / "c360"
    script = f'eval "$("{c360}" env)" && env'
    done = subprocess.run(["bash", "-c", script], env={**clean, **values}, capture_output=True, text=True,
                          check=True, timeout=60)  # fmt: skip
    shell = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    with env(values):
        expected = settings().environment()
    assert expected["C360_DUCKDB_PATH"] == str(tmp_path / "somewhere" / "warehouse.duckdb")  # the default's rule
    assert {k: shell.get(k) for k in expected} == expected
    assert shell["C360_PG_PORT"] == "6543" and shell["C360_PG_PASSWORD"] == ""


def test_no_module_but_the_settings_reads_a_setting():
    """A C360_* variable read elsewhere would carry a second default (or none). (ml/registry.py puts back
    MLFLOW_TRACKING_URI after MLflow exports it: MLflow's own variable, whose default is the settings'.)"""
    readers = []
    for package in ("c360_core", "c360_cli", "orchestration", "ml", "quality", "governance", "landing"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "settings.py" and path.parent.name == "c360_core":
                continue
            text = path.read_text()
            readers += [
                f"{path.relative_to(ROOT)}: {m}"
                for m in re.findall(r"(?:environ\.get|getenv|environ\[)\(?\s*['\"](C360_\w+)", text)
            ]
    assert readers == [], readers


def test_dbt_threads_follow_the_setting_else_the_event_history(tmp_path, monkeypatch):
    path = tmp_path / "wh.duckdb"
    values = {"C360_TARGET": "duckdb", "C360_DUCKDB_PATH": str(path), "C360_DATA_DIR": str(tmp_path)}

    def threads(**kw) -> int | None:
        with connect(settings()) as wh:
            return assets.threads(settings(), wh, **kw)

    with env({**values, "C360_DBT_THREADS": "3"}):
        assert settings().environment()["C360_DBT_THREADS"] == "3"
        assert threads() is None  # the profile's number, the setting's
    monkeypatch.delenv("C360_DBT_THREADS", raising=False)
    with env({**values, "C360_TARGET": "postgres"}):
        assert assets.threads(settings(), None) is None  # never asks PostgreSQL
    with env(values):
        assert settings().environment()["C360_DBT_THREADS"] == "auto"
        assert threads() == 2  # no events yet
        with duckdb.connect(str(path)) as con:
            con.execute("create schema if not exists raw")
            con.execute("create table raw.web_events as select range as n from range(5)")
        monkeypatch.setattr(assets, "ONE_THREAD_EVENTS", 6)
        assert threads() == 2
        monkeypatch.setattr(assets, "ONE_THREAD_EVENTS", 5)
        assert threads() == 1  # a first build: no event model yet
        with duckdb.connect(str(path)) as con:
            con.execute("create schema if not exists staging")
            con.execute("create table staging.stg_web__events as select 1 as n")
        assert threads() == 2  # an incremental run: small statements
        assert threads(full_refresh=True) == 1
