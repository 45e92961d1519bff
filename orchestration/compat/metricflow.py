"""Compat: MetricFlow's SQL client protocol and its renderers (orchestration/compat/__init__.py).

MetricFlow's engine wants a SQL client to explain a query, though explaining never runs SQL: this one
only names the dialect and its renderer (internal classes of `metricflow.sql.render`), and refuses to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

CHECKED = {"metricflow": "0.213.0"}


@dataclass(frozen=True)
class RenderOnlyClient:
    """What MetricFlow needs to render SQL for a target; it never connects (c360 runs the SQL)."""

    target: str

    @property
    def sql_engine_type(self):
        from metricflow.protocols.sql_client import SqlEngine  # noqa: PLC0415

        return SqlEngine.POSTGRES if self.target == "postgres" else SqlEngine.DUCKDB

    @cached_property
    def sql_plan_renderer(self):
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer  # noqa: PLC0415
        from metricflow.sql.render.postgres import PostgresSQLSqlPlanRenderer  # noqa: PLC0415

        return PostgresSQLSqlPlanRenderer() if self.target == "postgres" else DuckDbSqlPlanRenderer()

    def query(self, *args, **kwargs):
        raise NotImplementedError("c360 runs MetricFlow's SQL itself")

    execute = dry_run = close = render_bind_parameter_key = query
