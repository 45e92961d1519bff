"""`c360 materialize`: run the asset graph in-process and report asset by asset."""

from __future__ import annotations

import threading
import uuid

from rich.console import Console
from rich.table import Table


class BadSelection(Exception):
    """The --select string matched no asset or did not parse."""


def _selection(select: str | None, defs) -> list | None:
    import dagster as dg

    if not select or select == "*":
        return None
    try:
        keys = dg.AssetSelection.from_string(select).resolve(defs.resolve_asset_graph())
    except Exception as err:  # dagster raises several types for a bad selection string
        raise BadSelection(f"cannot parse --select {select!r}: {err}") from err
    if not keys:
        raise BadSelection(f"--select {select!r} matches no asset; try e.g. 'key:raw/customers' or 'group:marts'")
    return sorted(keys)


def _report(record, console: Console) -> None:
    from dagster import DagsterEventType

    event = record.dagster_event
    if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
        mat = event.event_specific_data.materialization
        rows = mat.metadata.get("dagster/row_count") or mat.metadata.get("rows_loaded")
        suffix = f" ({rows.value:,} rows)" if rows is not None else ""
        console.print(f"[green]built[/] {mat.asset_key.to_user_string()}{suffix}")
    elif event.event_type == DagsterEventType.STEP_FAILURE:
        console.print(f"[red]failed[/] {event.step_key}: {event.event_specific_data.error.message.strip()}")
    elif not event.event_specific_data.passed:
        check = event.event_specific_data
        console.print(f"[yellow]check failed[/] {check.asset_key.to_user_string()}: {check.check_name}")


def _watch(instance, run_id: str, console: Console, stop: threading.Event, seen: list) -> None:
    """Print each asset as its materialization, failure or failed check lands in the run's event log.

    Reads only what is new since the last poll (the event log's cursor), not the whole log again.
    """
    from dagster import DagsterEventType

    wanted = {DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.STEP_FAILURE,
              DagsterEventType.ASSET_CHECK_EVALUATION}  # fmt: skip
    cursor = None
    while True:
        done = stop.wait(0.5)
        while True:
            page = instance.get_records_for_run(run_id, cursor=cursor, of_type=wanted, limit=500)
            for record in page.records:
                seen.append(record.event_log_entry)
                _report(record.event_log_entry, console)
            cursor = page.cursor
            if not page.has_more:
                break
        if done:
            return


def materialize(select: str | None, console: Console) -> bool:
    from dagster import DagsterEventType, DagsterInstance

    from orchestration.definitions import defs

    job = defs.resolve_job_def("c360_all")
    keys = _selection(select, defs)
    instance = DagsterInstance.get()
    run_id, stop, seen = str(uuid.uuid4()), threading.Event(), []
    watcher = threading.Thread(target=_watch, args=(instance, run_id, console, stop, seen), daemon=True)
    watcher.start()
    try:
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            asset_selection=keys,
            raise_on_error=False,
            # the watcher prints progress; Dagster's own console log only for warnings and errors
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    finally:
        stop.set()
        watcher.join()
    built = [r for r in seen if r.dagster_event_type == DagsterEventType.ASSET_MATERIALIZATION]
    failed = [r for r in seen if r.dagster_event_type == DagsterEventType.STEP_FAILURE]
    checks = [r for r in seen if r.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION]
    table = Table(title=f"run {run_id[:8]}: {'succeeded' if result.success else 'FAILED'}")
    for col in ("assets built", "steps failed", "checks passed", "checks failed"):
        table.add_column(col, justify="right")
    passed = sum(1 for r in checks if r.dagster_event.event_specific_data.passed)
    table.add_row(str(len(built)), str(len(failed)), str(passed), str(len(checks) - passed))
    console.print(table)
    _print_mart_counts(built, console)
    return result.success


def _print_mart_counts(built: list, console: Console) -> None:
    """Row counts of the marts this run built, counted once dbt has released the warehouse."""
    from orchestration.lib.settings import settings
    from orchestration.lib.warehouse import connect

    keys = sorted({tuple(r.dagster_event.asset_key.path) for r in built})
    marts = [k for k in keys if len(k) == 2 and k[0] == "marts"]
    if not marts:
        return
    table = Table(title="marts built")
    table.add_column("table")
    table.add_column("rows", justify="right")
    with connect(settings()) as wh:
        for schema, name in marts:
            table.add_row(f"{schema}.{name}", f"{wh.query(f'select count(*) from {schema}.{name}')[1][0][0]:,}")
    console.print(table)
