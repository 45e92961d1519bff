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
from orchestration.defs.audiences.assets import audience_assignments
from orchestration.defs.dbt.assets import c360_dbt_models
from orchestration.defs.semantic.assets import semantic_assets

# after every table it grants on: the marts, the audiences and the semantic tables
MARTS = sorted(
    {k for k in c360_dbt_models.keys if k.path[0] in ("marts", "semantic")}
    | {audience_assignments.key}
    | {k for a in semantic_assets for k in a.keys}
)


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
