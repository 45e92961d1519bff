"""Audiences (dbt_project/audiences.yml) as a Python asset between dbt models:

    marts/customer_audience_signals (dbt) -> marts/audience_assignments -> marts/customer_segments,
    marts/segment_membership_history (dbt)

A broken rule does not stop the others: the asset materializes what evaluated and its check
`audience_rules_valid` fails, naming each broken audience and why (docs/semantic-layer.md).
"""

import dagster as dg

from c360_core.settings import settings
from c360_core.warehouse import connect
from orchestration.defs.shared import AUTOMATION
from orchestration.lib import audiences

KEY = dg.AssetKey(["marts", "audience_assignments"])
SIGNALS = dg.AssetKey(["marts", "customer_audience_signals"])


@dg.asset(
    key=KEY,
    deps=[SIGNALS],
    group_name="marts",
    kinds={"python", "table"},
    automation_condition=AUTOMATION,
    check_specs=[dg.AssetCheckSpec("audience_rules_valid", asset=KEY,
                                   description="Every rule of audiences.yml parses and names known columns.")],
    description="The members of every audience of dbt_project/audiences.yml, with the values that qualified them.",
)  # fmt: skip
def audience_assignments(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    try:
        defined = audiences.load()
    except audiences.AudienceFileError as err:
        raise dg.Failure(description=str(err), allow_retries=False) from err
    with connect(settings()) as wh:
        outcome = audiences.assign(wh, defined)
    for name, problem in sorted(outcome.errors.items()):
        context.log.error(f"audience {name!r} not refreshed: {problem}")
    description = "; ".join(f"{name}: {problem}" for name, problem in sorted(outcome.errors.items()))
    return dg.MaterializeResult(
        metadata={"members": dg.MetadataValue.json(outcome.members), "dagster/row_count": sum(outcome.members.values()),
                  "audiences": len(outcome.members), "broken_audiences": len(outcome.errors)},
        check_results=[dg.AssetCheckResult(check_name="audience_rules_valid", passed=not outcome.errors,
                                           severity=dg.AssetCheckSeverity.ERROR,
                                           description=description or "every rule evaluated",
                                           metadata={"errors": dg.MetadataValue.json(outcome.errors)})],
    )  # fmt: skip
