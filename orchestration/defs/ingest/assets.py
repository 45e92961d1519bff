"""One asset per source system: load new landing files into raw.<source>."""

import dagster as dg

from orchestration.lib.load import load_source
from orchestration.lib.settings import settings
from orchestration.lib.warehouse import connect
from simulator.landing import SOURCES, Source


def ingest_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        name=source.name,
        key_prefix="raw",
        group_name="ingest",
        kinds={"python"},
        description=f"{source.system} {source.name} ({source.cadence}) from `landing/{source.pattern}`, "
        f"with rejected records in raw.{source.name}__rejects.",
    )
    def _load(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        cfg = settings()
        with connect(cfg) as wh:
            summary = load_source(wh, source, cfg.landing)
            _, [(total,)] = wh.query(f"select count(*) from raw.{source.name}")
        context.log.info(
            f"{source.name}: {summary.files_loaded} new files, {summary.rows_loaded} rows loaded, "
            f"{summary.rows_rejected} rejected, {summary.files_skipped} files already loaded"
        )
        if summary.failures:
            raise dg.Failure(
                description=f"{len(summary.failures)} {source.name} file(s) could not be read; "
                f"other files loaded. First: {summary.failures[0]}",
                metadata={"failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in summary.failures))},
            )
        return dg.MaterializeResult(
            metadata={
                "files_loaded": summary.files_loaded,
                "files_skipped": summary.files_skipped,
                "rows_read": summary.rows_read,
                "rows_loaded": summary.rows_loaded,
                "rows_rejected": summary.rows_rejected,
                "dagster/row_count": int(total),
            }
        )

    return _load


ingest_assets = [ingest_asset(source) for source in SOURCES.values()]
