"""dbt models as Dagster assets; dbt tests become asset checks."""

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.defs.dbt.project import DBT_EXECUTABLE, dbt_project, ensure_manifest
from orchestration.lib.settings import settings

LAYERS = ("staging", "intermediate", "marts")


class C360Translator(DagsterDbtTranslator):
    """Asset keys are <schema>/<model>; groups follow the dbt folder layers."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return next((part for part in fqn if part in LAYERS), None)


def dbt_env() -> dict[str, str]:
    """What the dbt subprocess needs to reach the same warehouse as the loaders."""
    cfg = settings()
    return {"C360_TARGET": cfg.target, "C360_DUCKDB_PATH": str(cfg.duckdb_path), "C360_PG_DATABASE": cfg.pg_database}


@dbt_assets(manifest=ensure_manifest(), project=dbt_project, dagster_dbt_translator=C360Translator())
def c360_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator:
    os.environ.update(dbt_env())
    dbt_vars = {"as_of_date": settings().as_of_date.isoformat()}
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()


dbt_resource = DbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE))
