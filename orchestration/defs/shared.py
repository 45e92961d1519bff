"""What every domain of the definitions uses: the automation condition of the models and the run tags."""

import dagster as dg

from orchestration.lib.instance import warehouse_tags

# Eager: refresh when any input was updated (or will be in the same tick). The raw sources are
# time-partitioned, and most of their partitions (hours before the data began, say) never exist;
# waiting for "no input missing" would wait forever, so that clause is dropped.
# A failed blocking check on an input (Soda contract or dbt test) holds the model back.
AUTOMATION = (
    dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())
    & dg.AutomationCondition.all_deps_blocking_checks_passed()
)
# every run that writes the warehouse: dagster.yaml lets one such run write at a time
WAREHOUSE_TAGS = warehouse_tags()
# run tags the assets read
FULL_REFRESH_TAG = "c360/full_refresh"  # the dbt models rebuild from scratch
RELOAD_TAG = "c360/reload"  # "changed": load only new or changed files of the partitions (the CLI's catch-up)
VERIFY_TAG = "c360/verify"  # "full": every contract and dbt test over every row
