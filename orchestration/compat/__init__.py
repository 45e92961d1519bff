"""Every use of another library's private names in the Dagster side of c360 lives in this package, one module
per library, each with the versions it was read in (`CHECKED`).

`tests/test_compat.py` fails when an installed version differs from a module's CHECKED, naming the module:
after an upgrade, that module is the list of lines to re-check. Nothing outside these modules (and
quality/soda_compat.py, c360_cli/compat.py) imports a private name.

- `dagster`: the SQLite event log that writes a batch per transaction, and the job of a set of assets;
- `dagster_dbt`: dbt in this process instead of a subprocess, and a resource without two per-run costs;
- `dbt_duckdb`: closing the database dbt-duckdb keeps open;
- `metricflow`: rendering MetricFlow's SQL without a connection.
"""
