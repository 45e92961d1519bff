"""The private names of other libraries that c360 uses (orchestration/lib/compat.py) were read in the
versions installed: an upgrade fails here first, naming the file whose lines to re-check."""

from __future__ import annotations

import importlib.metadata

import pytest

from orchestration.lib import compat


@pytest.mark.parametrize("package", sorted(compat.CHECKED))
def test_the_private_names_were_checked_against_the_installed_version(package: str) -> None:
    installed = importlib.metadata.version(package)
    assert installed == compat.CHECKED[package], (
        f"{package} is {installed}, but orchestration/lib/compat.py was checked against "
        f"{compat.CHECKED[package]}: re-read its uses of {package}, then update CHECKED"
    )


def test_dbt_duckdb_keeps_its_database_where_compat_closes_it() -> None:
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager  # noqa: PLC0415

    assert hasattr(DuckDBConnectionManager, "_ENV") and hasattr(DuckDBConnectionManager, "_LOCK")
    compat.close_dbt_duckdb_database()  # with nothing open: a no-op
    assert DuckDBConnectionManager._ENV is None
