"""Semantic-layer tables: one asset per MetricFlow saved query, `semantic/<saved query>`.

Each reads the semantic manifest dbt wrote for this warehouse in the same run (its relations name
this warehouse's database), asks MetricFlow for the saved query's SQL and replaces the table
(orchestration/lib/semantic.py). They depend on every model the semantic layer reads, so they
refresh when the marts change.
"""

import json

import dagster as dg

from c360_core.settings import settings
from c360_core.warehouse import connect
from orchestration.defs.dbt.assets import AUTOMATION, MANIFEST, dbt_target_path
from orchestration.lib.semantic import SemanticLayer

GROUP = "semantic"


def _semantic_inputs(manifest: dict) -> tuple[list[str], list[dg.AssetKey]]:
    """The saved queries, and the models of every semantic model (as asset keys)."""
    nodes = manifest["nodes"]
    models = sorted({n for sm in manifest.get("semantic_models", {}).values() for n in sm["depends_on"]["nodes"]})
    keys = [dg.AssetKey([nodes[m]["schema"], nodes[m]["name"]]) for m in models]
    return sorted(q["name"] for q in manifest.get("saved_queries", {}).values()), keys


SAVED_QUERIES, INPUTS = _semantic_inputs(json.loads(MANIFEST.read_text()))


def _asset(saved_query: str) -> dg.AssetsDefinition:
    @dg.asset(key=dg.AssetKey([GROUP, saved_query]), deps=INPUTS, group_name=GROUP, kinds={"metricflow", "table"},
              automation_condition=AUTOMATION,
              description=f"The MetricFlow saved query `{saved_query}` as a table (`mf query --saved-query "
              f"{saved_query}` returns the same rows).")  # fmt: skip
    def semantic_table(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        cfg = settings()
        manifest = dbt_target_path(cfg) / "semantic_manifest.json"
        if not manifest.exists():
            raise dg.Failure(description=f"{manifest} is missing: build the models first "
                             "(c360 materialize --select 'group:marts+')", allow_retries=False)  # fmt: skip
        layer = SemanticLayer(manifest, cfg.target)
        with connect(cfg) as wh:
            rows = layer.refresh(wh, saved_query)
        context.log.info(f"semantic.{saved_query}: {rows:,} rows")
        return dg.MaterializeResult(metadata={"dagster/row_count": rows})

    return semantic_table


semantic_assets = [_asset(q) for q in SAVED_QUERIES]
