"""dbt models as Dagster assets; dbt tests become asset checks.

The models refresh by declarative automation: each is eager, so it runs when an input changes.
The large models are incremental on the load watermark, so that run only touches what changed.
"""

import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from c360_core.settings import Settings, environ, settings
from c360_core.warehouse import Warehouse, connect
from ml import predictions
from orchestration.compat.dagster_dbt import LeanDbtCliResource
from orchestration.defs.dbt import in_process
from orchestration.defs.dbt.project import DBT_EXECUTABLE, dbt_env, dbt_project, manifest
from orchestration.defs.quality.gate import blocked_models
from orchestration.defs.shared import AUTOMATION, FULL_REFRESH_TAG, VERIFY_TAG
from orchestration.lib import audiences

# On Spark, dbt-spark's session method asks for Hive support, a setting of the Connect server's own (c360_core/
# spark.py sets it there): the client warns on every connection that it cannot set it, which changes nothing
warnings.filterwarnings("ignore", message="Failed to set spark.sql.catalogImplementation", category=UserWarning)

LAYERS = ("staging", "intermediate", "marts", "semantic", "ml")


class C360Translator(DagsterDbtTranslator):
    """Asset keys are <schema>/<model>; groups follow the dbt folder layers; models are eager."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return next((part for part in fqn if part in LAYERS), None)

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        # the ML features are rebuilt by the ML jobs (daily scoring, weekly training), not every hour
        return None if self.get_group_name(dbt_resource_props) == "ml" else AUTOMATION


# read once: the dbt assets, the semantic layer and the blocking gate all look things up in it
MANIFEST = manifest()


@dbt_assets(manifest=MANIFEST, project=dbt_project, dagster_dbt_translator=C360Translator())
def c360_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator:
    full_refresh = context.run.tags.get(FULL_REFRESH_TAG) == "true"
    cfg = settings()
    with connect(cfg) as wh:  # dbt reads them before any model has scored or audience run
        predictions.ensure_tables(wh)
        audiences.ensure_table(wh)
        n = threads(cfg, wh, full_refresh)
    # the invocation's own environment (restored after it): the warehouse, and whether every test reads every
    # row (macros/test_window.sql; an env var, not --vars, like as_of_date: dbt re-parses the whole project
    # when its vars change, and a first run would not reuse the parse)
    window = "all" if context.run.tags.get(VERIFY_TAG) == "full" else "new"
    with environ({**dbt_env(), "C360_TEST_WINDOW": window}):
        yield from _build(context, dbt, full_refresh, n)


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, full_refresh: bool, n: int | None) -> Iterator:
    # dbt's unit tests check the SQL, not the data: `make test` runs them (tests/dbt/test_dbt_unit.py),
    # as dbt advises, and production builds skip them (0.5 s of every hourly run)
    args = ["build", "--exclude-resource-type", "unit_test"]
    if full_refresh:  # rebuild the incremental models from scratch
        args.append("--full-refresh")
    if n is not None:  # dbt's threads, when c360 chooses them
        args += ["--threads", str(n)]
    # One target folder per warehouse (dagster-dbt would make a new one per run): dbt then finds its
    # partial-parse file from the last run and skips re-parsing the project. Runs never overlap.
    target = settings().dbt_target
    blocked = _blocked_selection(context)
    if blocked:  # one value, space-separated: dagster-dbt takes one value per --exclude and leaves the rest
        args += ["--exclude", " ".join(sorted(blocked))]
    yield from dbt.cli(args, context=context, target_path=target).stream()
    if blocked:
        reasons = sorted({why for why in blocked.values()})
        raise dg.Failure(
            description=f"{len(blocked)} model(s) not built: {'; '.join(reasons)}",
            metadata={
                "blocked_models": dg.MetadataValue.md("\n".join(f"- {m}: {w}" for m, w in sorted(blocked.items())))
            },
            allow_retries=False,
        )


# C360_DBT_THREADS unset (auto) on DuckDB: two threads, but one for a first build or a full refresh past this many
# events. There two heavy statements share the machine's cores and the memory limit, and spill: at 1M customers x
# 1 year (113M events) the 72 models took 746 s on one thread and 851 s on two; at 100k (11M events) 68 s and 65 s.
# An hourly run at 1M, small statements, took 6.0 s on two and 6.9 s on one (docs/decisions.md).
ONE_THREAD_EVENTS = 50_000_000


def threads(cfg: Settings, wh: Warehouse, full_refresh: bool = False) -> int | None:
    """dbt's threads for a build on DuckDB when C360_DBT_THREADS is auto; None: the profile's."""
    if cfg.dbt_threads is not None or cfg.target != "duckdb":
        return None
    if not wh.has_table("raw.web_events"):
        return 2
    _, [(events,)] = wh.query("select count(*) from raw.web_events")
    first = not wh.has_table("staging.stg_web__events")  # the event models are built from scratch
    return 1 if events >= ONE_THREAD_EVENTS and (first or full_refresh) else 2


def _blocked_selection(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The selected models the blocking gate holds back (see orchestration/defs/quality/gate.py)."""
    selected = {key.path[-1] for key in context.selected_asset_keys}
    blocked = blocked_models(settings(), MANIFEST)
    for model, why in sorted(blocked.items()):
        if model in selected:
            context.log.error(f"not building {model}: {why}")
    return {m: w for m, w in blocked.items() if m in selected}


class C360DbtCliResource(LeanDbtCliResource):
    """dbt in this process (orchestration/defs/dbt/in_process.py), unless C360_DBT_IN_PROCESS=false."""

    def cli(self, args, **kwargs):
        with in_process.dbt_in_process():  # dbt in a thread of this process, not a new process
            return super().cli(args, **kwargs)


# the stock resource and a dbt subprocess when in-process dbt is off (and with it, every compat override)
dbt_resource = (C360DbtCliResource if settings().dbt_in_process else DbtCliResource)(
    project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE)
)
