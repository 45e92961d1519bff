"""One asset per source system: load landing files into raw.<source>.

Time-partitioned sources load exactly their partition's files (a re-run replaces the partition);
orders and line items are not partitioned and load whatever is new (see the orders sensor).
"""

import datetime as dt
import warnings

import dagster as dg
import psycopg

from c360_core.settings import settings
from c360_core.warehouse import connect
from landing import SOURCES, STALE_AFTER, Source
from orchestration.defs.ingest.partitions import PARTITIONS
from orchestration.defs.shared import RELOAD_TAG
from orchestration.lib import shop
from orchestration.lib.load import LoadSummary, ensure_tables, load_source, load_window

# Run tag RELOAD_TAG "changed" loads only new or changed files of the partitions (the CLI's catch-up);
# anything else re-reads every file of the partitions, so a re-run replaces them exactly.
# A load that failed only because files were refused carries this in its failure's metadata: the other
# sources go on, and the models below this one wait for the files (orchestration/defs/quality/gate.py).
REFUSED_FILES = "c360/refused_files"
# Transient failures (a dropped Postgres connection) are retried with exponential backoff;
# data errors raise Failure(allow_retries=False) and are not.
# Stale after: landing.STALE_AFTER (web events 2 h, customers and transactions 26 h, products 8 d, brands 32 d,
# orders 2 h); the UI shows each asset's freshness against its window.
TRANSIENT = (psycopg.OperationalError, psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)
RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def _load(context: dg.AssetExecutionContext, source: Source) -> LoadSummary:
    cfg = settings()
    with connect(cfg) as wh:
        for other in SOURCES.values():  # every raw table exists, if empty: contracts join across them
            ensure_tables(wh, other)
        if source.name in PARTITIONS:
            window = context.partition_time_window
            start, end = (t.astimezone(dt.UTC).replace(tzinfo=None) for t in (window.start, window.end))
            force = context.run.tags.get(RELOAD_TAG) != "changed"
            summary = load_window(wh, source, cfg.landing, start, end, force=force)
        else:
            summary = load_source(wh, source, cfg.landing)
            if cfg.target == "postgres" and source.name in shop.TABLES:  # and the live shop database
                shop.pull(wh, cfg, source.name, summary)
        _, [(total,)] = wh.query(f"select count(*) from raw.{source.name}")
    summary.total_rows = int(total)
    return summary


# BackfillPolicy is marked beta; single-run backfills are what make range loads one transaction-safe run
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)


def ingest_asset(source: Source) -> dg.AssetsDefinition:
    partitioned = source.name in PARTITIONS

    @dg.asset(
        name=source.name,
        key_prefix="raw",
        group_name="ingest",
        kinds={"python"},
        partitions_def=PARTITIONS.get(source.name),
        # a backfill of many partitions is one run that loads the whole range
        backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
        retry_policy=RETRY,
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=STALE_AFTER[source.name]),
        tags={"c360/cadence": source.cadence.replace(" ", "_")},
        description=f"{source.system} {source.name} ({source.cadence}) from `landing/{source.pattern}`, "
        f"with rejected records in raw.{source.name}__rejects.",
    )
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        try:
            summary = _load(context, source)
        except TRANSIENT:
            raise  # the retry policy tries again, with backoff
        except Exception as err:
            raise dg.Failure(f"loading {source.name} failed: {err!r}", allow_retries=False) from err
        context.log.info(
            f"{source.name}: {summary.files_loaded} files loaded, {summary.rows_loaded} rows loaded, "
            f"{summary.rows_rejected} rejected, {summary.files_skipped} unchanged files skipped, "
            f"{summary.files_removed} removed"
        )
        if summary.failures:
            raise dg.Failure(
                description=f"{len(summary.failures)} {source.name} file(s) could not be read; "
                f"other files loaded. First: {summary.failures[0]}",
                metadata={
                    "failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in summary.failures)),
                    REFUSED_FILES: len(summary.failures),
                },
                allow_retries=False,
            )
        return dg.MaterializeResult(
            metadata={
                "files_loaded": summary.files_loaded,
                "files_skipped": summary.files_skipped,
                "files_removed": summary.files_removed,
                "rows_read": summary.rows_read,
                "rows_loaded": summary.rows_loaded,
                "rows_rejected": summary.rows_rejected,
                "dagster/row_count": summary.total_rows,
            }
        )

    return _asset


ingest_assets = [ingest_asset(source) for source in SOURCES.values()]
