"""Governance assets: grants after the marts, and the daily retention of raw rows.

Grants after the marts: PostgreSQL's roles and row-level security follow every build of the marts.

dbt recreates tables, and a recreated table has neither grants nor policies: this asset puts them back
(it fails closed in between: the analysts' roles see nothing until it runs). On DuckDB there are no roles;
it records that nothing is enforced.
"""

import dagster as dg

from c360_core.settings import settings
from governance.grants import apply
from governance.retention import apply_retention
from landing import SOURCES
from orchestration.defs.dbt.project import manifest
from orchestration.lib.audiences import TABLE as AUDIENCES


def _granted() -> list[dg.AssetKey]:
    """Every table it grants on, by key: the dbt marts and semantic views, the audiences and the semantic
    tables of the saved queries (from the parsed project, not from the other domains' asset objects)."""
    parsed = manifest()
    models = {(n["schema"], n["name"]) for n in parsed["nodes"].values()
              if n["resource_type"] == "model" and n["schema"] in ("marts", "semantic")}  # fmt: skip
    saved = {("semantic", q["name"]) for q in parsed.get("saved_queries", {}).values()}
    return [dg.AssetKey(list(k)) for k in sorted(models | saved | {tuple(AUDIENCES.split("."))})]


MARTS = _granted()


@dg.asset(
    key=["governance", "grants"],
    group_name="governance",
    deps=MARTS,
    kinds={"postgres"},
    automation_condition=dg.AutomationCondition.eager(),
    description="Apply governance/access.yml: c360 roles, their privileges and row-level security per region "
    "(c360 grants apply; docs/governance.md).",
)
def grants() -> dg.MaterializeResult:
    cfg = settings()
    if cfg.target != "postgres":
        return dg.MaterializeResult(metadata={"enforced": False, "why": "DuckDB has no roles"})
    done = apply(cfg)
    metadata = {"enforced": True, "roles": ", ".join(done.roles), "policies": done.policies,
                "dropped": ", ".join(done.dropped) or "-"}  # fmt: skip
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=["governance", "retention"],
    group_name="governance",
    deps=[dg.AssetKey(["raw", name]) for name in SOURCES],
    kinds={"python"},
    description="Delete raw rows older than each source's retention (governance/retention.yml; default: keep "
    "everything) and log what went in audit.retention_runs. Runs daily (governance_retention).",
)
def retention(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    removed = apply_retention(settings())
    for r in removed:
        context.log.info(
            f"raw.{r.source}: {r.rows:,} rows and {r.rejects:,} rejects before {r.cutoff:%Y-%m-%d} removed"
        )
    return dg.MaterializeResult(metadata={f"{r.source}_rows_removed": r.rows for r in removed} or {"removed": 0})
