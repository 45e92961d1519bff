"""Semantic-layer tables: one asset per MetricFlow saved query, `semantic/<saved query>`, all computed
in one step.

Each reads the semantic manifest dbt wrote for this warehouse in the same run (its relations name
this warehouse's database), asks MetricFlow for the saved query's SQL and replaces the table
(orchestration/lib/semantic.py). They depend on every model the semantic layer reads, so they
refresh when the marts change.
"""

from collections.abc import Iterator

import dagster as dg

from c360_core.settings import settings
from c360_core.warehouse import connect
from orchestration.defs.dbt.project import manifest
from orchestration.defs.shared import AUTOMATION
from orchestration.lib.semantic import SemanticLayer

GROUP = "semantic"


def _semantic_inputs(manifest: dict) -> tuple[list[str], list[dg.AssetKey]]:
    """The saved queries, and the models of every semantic model (as asset keys)."""
    nodes = manifest["nodes"]
    models = sorted({n for sm in manifest.get("semantic_models", {}).values() for n in sm["depends_on"]["nodes"]})
    keys = [dg.AssetKey([nodes[m]["schema"], nodes[m]["name"]]) for m in models]
    return sorted(q["name"] for q in manifest.get("saved_queries", {}).values()), keys


SAVED_QUERIES, INPUTS = _semantic_inputs(manifest())


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey([GROUP, q]),
            deps=INPUTS,
            group_name=GROUP,
            kinds={"metricflow", "table"},
            automation_condition=AUTOMATION,
            description=f"The MetricFlow saved query `{q}` as a table (`mf query --saved-query {q}` "
            "returns the same rows).",
        )
        for q in SAVED_QUERIES
    ],
    can_subset=True,
    name="semantic_tables",
)
def semantic_tables(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
    """One step for all the selected tables: MetricFlow's engine loads once."""
    cfg = settings()
    manifest = cfg.dbt_target / "semantic_manifest.json"
    if not manifest.exists():
        raise dg.Failure(description=f"{manifest} is missing: build the models first "
                         "(c360 materialize --select 'group:marts+')", allow_retries=False)  # fmt: skip
    layer = SemanticLayer(manifest, cfg.target)
    with connect(cfg) as wh:
        for key in sorted(context.selected_asset_keys):
            rows = layer.refresh(wh, key.path[-1])
            context.log.info(f"semantic.{key.path[-1]}: {rows:,} rows")
            yield dg.MaterializeResult(asset_key=key, metadata={"dagster/row_count": rows})


semantic_assets = [semantic_tables]
