"""Compat: Soda Core's data-source classes (soda_core.common, soda_duckdb.common, soda_sparkdf.common), the one
place c360 touches them. `verify_contract_locally`, the documented API, takes data sources as these classes
only: a data source file path would make Soda open the warehouse itself.

`tests/test_compat.py` fails when an installed version differs from CHECKED: re-read this module then.
"""

from __future__ import annotations

CHECKED = {"soda-core": "4.28.0", "soda-duckdb": "4.28.0", "soda-sparkdf": "4.28.0"}


def from_yaml(text: str):
    """A data source from its YAML (or JSON) configuration, as a data source file would give it."""
    from soda_core.common.data_source_impl import DataSourceImpl  # noqa: PLC0415  (slow import)
    from soda_core.common.yaml import DataSourceYamlSource  # noqa: PLC0415

    return DataSourceImpl.from_yaml_source(DataSourceYamlSource.from_str(text))


def from_duckdb_cursor(cursor, name: str):
    """A DuckDB data source over an open DuckDB connection (Soda opens nothing)."""
    from soda_duckdb.common.data_sources.duckdb_data_source import DuckDBDataSourceImpl  # noqa: PLC0415

    return DuckDBDataSourceImpl.from_existing_cursor(cursor, name)


def from_spark_session(session, name: str):
    """A Spark data source over an open Spark (Connect) session (Soda builds none of its own)."""
    from soda_sparkdf.common.data_sources.sparkdf_data_source import SparkDataFrameDataSourceImpl  # noqa: PLC0415

    return SparkDataFrameDataSourceImpl.from_existing_session(session, name)
