"""The semantic layer's tables: one per MetricFlow saved query (`semantic.<name>`)."""

import dagster as dg

from orchestration.defs.semantic.assets import semantic_assets

defs = dg.Definitions(assets=semantic_assets)
