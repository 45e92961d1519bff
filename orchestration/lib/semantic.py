"""Semantic-layer tables: each MetricFlow saved query materialized as `semantic.<name>`.

dbt Core has no exports, so c360 asks MetricFlow itself for the SQL of each saved query (the SQL
`mf query --saved-query <name> --explain` prints) and runs it in the warehouse as
`create table ... as`, replacing the table in one transaction. Analysts on plain SQL then read
exactly what `mf` answers (docs/semantic-layer.md).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from c360_core.warehouse import Warehouse
from orchestration.compat.metricflow import RenderOnlyClient

# MetricFlow is imported where it is used: it costs ~0.5 s, and every process that loads the code
# location (an hourly load, a sensor tick) would pay it without running a saved query.

SCHEMA = "semantic"


class SemanticLayer:
    """The saved queries of one semantic manifest (dbt writes target/semantic_manifest.json)."""

    def __init__(self, semantic_manifest: Path, target: str) -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine  # noqa: PLC0415
        from metricflow_semantics.model.dbt_manifest_parser import (  # noqa: PLC0415
            parse_manifest_from_dbt_generated_manifest,
        )
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup  # noqa: PLC0415

        manifest = parse_manifest_from_dbt_generated_manifest(semantic_manifest.read_text())
        self.saved_queries = sorted(q.name for q in manifest.saved_queries)
        self.engine = MetricFlowEngine(SemanticManifestLookup(manifest), RenderOnlyClient(target))

    def sql(self, saved_query: str) -> str:
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest  # noqa: PLC0415

        request = MetricFlowQueryRequest.create(saved_query_name=saved_query)
        return self.engine.explain(request).sql_statement.sql

    def metric_sql(self, metrics: list[str], group_by: list[str] = (), where: list[str] = (),
                   start: dt.date | None = None, end: dt.date | None = None) -> str:  # fmt: skip
        """The SQL of an ad-hoc query, as `mf query --metrics ... --group-by ... --where ... --start-time ...
        --end-time ...` runs it."""
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest  # noqa: PLC0415

        request = MetricFlowQueryRequest.create(
            metric_names=metrics,
            group_by_names=list(group_by) or None,
            where_constraints=list(where) or None,
            time_constraint_start=dt.datetime.combine(start, dt.time()) if start else None,
            time_constraint_end=dt.datetime.combine(end, dt.time()) if end else None,
        )
        return self.engine.explain(request).sql_statement.sql

    def metrics(self) -> list[tuple[str, str]]:
        """(name, label) of every metric an analyst may ask for (the parts of derived metrics excluded)."""
        return sorted((m.name, m.label or m.name) for m in self.engine.list_metrics()
                      if not m.name.endswith(("_metric", "_epoch_metric")))  # fmt: skip

    def dimensions(self, metrics: list[str]) -> list[str]:
        """The group-by names (`entity__dimension`, and metric_time at day, week and month) the metrics share."""
        if not metrics:
            return []
        found = {d.granularity_free_dunder_name for d in self.engine.simple_dimensions_for_metrics(metrics)}
        found.discard("metric_time")
        return ["metric_time__day", "metric_time__week", "metric_time__month", *sorted(found)]

    def refresh(self, wh: Warehouse, saved_query: str) -> int:
        """Replace semantic.<saved_query> with the query's current answer; returns its row count."""
        table = f"{SCHEMA}.{saved_query}"
        with wh.transaction():
            wh.execute(f"drop table if exists {table}")
            wh.execute(f"create table {table} as {self.sql(saved_query)}")
            return int(wh.query(f"select count(*) from {table}")[1][0][0])
