"""Audiences: the members of every audience of dbt_project/audiences.yml, between dbt models."""

import dagster as dg

from orchestration.defs.audiences.assets import audience_assignments

defs = dg.Definitions(assets=[audience_assignments])
