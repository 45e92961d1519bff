"""`c360 materialize`: show a materialization as it runs, asset by asset, and its runs in a table. The plan is
orchestration/plan.py's, its execution orchestration/runs.py's."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from rich.console import Console
from rich.table import Table


class _ProgressLines(logging.Handler):
    """The loaders' progress lines (logger c360.load), printed as they come."""

    def __init__(self, console: Console):
        super().__init__(logging.INFO)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        self.console.print(f"  {record.getMessage()}", style="dim", markup=False, highlight=False)


def show_progress(console: Console) -> None:
    progress = logging.getLogger("c360.load")
    progress.setLevel(logging.INFO)
    if not any(isinstance(h, _ProgressLines) for h in progress.handlers):
        progress.addHandler(_ProgressLines(console))


def _report(record, console: Console) -> None:
    from dagster import DagsterEventType

    event = record.dagster_event
    if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
        mat = event.event_specific_data.materialization
        rows = mat.metadata.get("dagster/row_count") or mat.metadata.get("rows_loaded")
        if mat.partition:  # a range run materializes every partition: summarized after the run
            return
        suffix = f" ({rows.value:,} rows)" if rows is not None else ""
        console.print(f"[green]built[/] {mat.asset_key.to_user_string()}{suffix}")
    elif event.event_type == DagsterEventType.STEP_FAILURE:
        console.print(f"[red]failed[/] {event.step_key}: {event.event_specific_data.error.message.strip()}")
    elif not event.event_specific_data.passed:
        check = event.event_specific_data
        console.print(f"[yellow]check failed[/] {check.asset_key.to_user_string()}: {check.check_name}")


def materialize(
    select: str | None,
    console: Console,
    partition_range: str | None = None,
    full_refresh: bool = False,
    instance=None,
    timings: str | None = None,
) -> bool:
    """Plan and execute the runs for a selection, showing each as it goes; True when every run succeeded."""
    from dagster import DagsterInstance

    from orchestration.definitions import defs
    from orchestration.plan import plan, selection
    from orchestration.runs import run_steps

    steps = plan(defs, selection(select, defs), partition_range, full_refresh)
    table = Table(title="c360 materialize")
    for col in ("run", "assets", "built", "failed", "checks ok", "checks failed", "seconds"):
        table.add_column(col, justify="right" if col != "assets" else "left", no_wrap=col != "assets")

    def started(i: int, step) -> None:
        console.print(f"[bold]run {i}/{len(steps)}[/]: {step.label}")

    durations: list[dict[str, float]] = []  # per run executed, in order: dbt's own seconds per model

    def done(r, seen: list) -> None:
        durations.append(_node_seconds(seen))
        _summarize_partitions(seen, console)
        table.add_row(f"{len(table.rows) + 1} {'ok' if r.success else 'FAILED'}", r.step.label, str(r.built),
                      str(r.failed), str(r.checks_passed), str(r.checks_failed), f"{r.step.seconds:.1f}")  # fmt: skip

    ok, built, _ = run_steps(defs, steps, instance or DagsterInstance.get(), lambda e: _report(e, console),
                             on_start=started, on_done=done)  # fmt: skip
    console.print(table)
    _print_mart_counts(built, console)
    if timings:
        runs = [{"run": s.label, "seconds": s.seconds, "peak_rss_mib_so_far": s.peak_rss_mib,
                 "assets": durations[i] if i < len(durations) else {}} for i, s in enumerate(steps)]  # fmt: skip
        Path(timings).write_text(json.dumps(runs, indent=2))
    return ok


def _node_seconds(seen: list) -> dict[str, float]:
    """The seconds dbt itself took for each model the run materialized, slowest first (a run may invoke dbt
    more than once, and dbt's run_results.json keeps only the last invocation)."""
    found = {}
    for r in seen:
        mat = r.dagster_event.event_specific_data.materialization if r.dagster_event.is_step_materialization else None
        duration = mat.metadata.get("Execution Duration") if mat is not None else None
        if duration is not None:
            found[mat.asset_key.to_user_string()] = round(float(duration.value), 2)
    return dict(sorted(found.items(), key=lambda item: -item[1]))


def _summarize_partitions(seen: list, console: Console) -> None:
    """A range run materializes every partition: one line per asset, after the run."""
    partitions: dict[str, list] = {}
    for r in seen:
        mat = r.dagster_event.event_specific_data.materialization if r.dagster_event.is_step_materialization else None
        if mat is not None and mat.partition:
            partitions.setdefault(mat.asset_key.to_user_string(), []).append(mat)
    for key, mats in sorted(partitions.items()):
        rows = mats[-1].metadata.get("dagster/row_count")
        total = f", {rows.value:,} rows in the table" if rows is not None else ""
        console.print(f"[green]built[/] {key}: {len(mats):,} partitions{total}")


def _print_mart_counts(built: list, console: Console) -> None:
    """Row counts of the marts this run built, counted once dbt has released the warehouse."""
    from c360_core.settings import settings
    from c360_core.warehouse import connect

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
