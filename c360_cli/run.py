"""`c360 materialize`: run the asset graph in-process and report asset by asset.

Dagster runs one partitioning per run, so a selection becomes a short plan: one run per partitioning
of the selected sources (a single-run backfill of its range), one run verifying all their contracts once
every source is loaded, then one run for the dbt models.
"""

from __future__ import annotations

import json
import logging
import re
import resource
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


class BadSelection(Exception):
    """The --select string matched no asset or did not parse, or the partition range is wrong."""


@dataclass
class Step:
    keys: list
    tags: dict[str, str] = field(default_factory=dict)
    label: str = ""
    checks: set | None = None  # the asset checks the run executes; None: every check of its assets
    seconds: float | None = None  # wall time of its run(s), once executed
    peak_rss_mib: float | None = None  # the process's peak resident memory so far, once executed


def _bare_names(select: str, graph) -> str:
    """A bare name is the asset whose key ends in it: `web_events` is raw/web_events. Where a source
    and a model share a name (customers), the source (raw/customers) is meant."""
    names: dict[str, list] = {}
    for key in graph.get_all_asset_keys():
        names.setdefault(key.path[-1], []).append(key)
    out = []
    for token in select.split():
        keys = names.get(token, []) if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token) else []
        if len(keys) > 1:
            keys = [k for k in keys if k.path[0] == "raw"]
        out.append(f'key:"{keys[0].to_user_string()}"' if len(keys) == 1 else token)
    return " ".join(out)


def _selection(select: str | None, defs) -> list:
    import dagster as dg

    graph = defs.resolve_asset_graph()
    if not select or select == "*":
        return sorted(graph.materializable_asset_keys)
    try:
        # external inputs (the quality history tables dbt reads) are never materialized here
        keys = (
            dg.AssetSelection.from_string(_bare_names(select, graph)).resolve(graph) & graph.materializable_asset_keys
        )
    except Exception as err:  # dagster raises several types for a bad selection string
        raise BadSelection(f"cannot parse --select {select!r}: {err}") from err
    if not keys:
        raise BadSelection(f"--select {select!r} matches no asset; try e.g. 'web_events', 'key:raw/customers+' "
                           "or 'group:marts'")  # fmt: skip
    return sorted(keys)


def _normalize(key: str, partitions) -> str:
    """Accept an hourly key without minutes (2026-01-01-05 for 2026-01-01-05:00)."""
    if re.fullmatch(r"\d{4}-\d\d-\d\d-\d\d", key) and ":" in partitions.fmt:
        key = f"{key}:00"
    if not partitions.has_partition_key(key):
        raise BadSelection(f"{key!r} is not a partition (keys look like {partitions.get_first_partition_key()!r})")
    return key


def _catch_up_range(partitions, sources: list[str]) -> tuple[str, str, list[str]] | None:
    """The partitions spanning the landing files that are new or changed since they were loaded, and
    the sources that have such files (the others are not run: nothing of theirs changed).

    None when everything is loaded: the run is skipped, not repeated (with a persistent instance,
    Dagster records every partition of a range: ~10 ms each, 90 s for a year of hours).
    """
    import datetime as dt

    from c360_core.settings import settings
    from c360_core.warehouse import connect
    from landing import SOURCES, period_of
    from orchestration.lib.load import pending_files

    cfg = settings()
    with connect(cfg) as wh:
        pending = [(s, p) for s in sources for p in pending_files(wh, SOURCES[s], cfg.landing)]
    periods = [period_of(s, str(p.relative_to(cfg.landing))) for s, p in pending]
    if not periods:
        return None
    _check_start(partitions, min(periods), cfg)
    first, last = (partitions.get_partition_key_for_timestamp(t.replace(tzinfo=dt.UTC).timestamp())
                   for t in (min(periods), max(periods)))  # fmt: skip
    return first, last, sorted({s for s, _ in pending}, key=sources.index)


def _check_start(partitions, earliest, cfg) -> None:
    """A landing file before the first partition is a clear error naming the setting, before anything runs."""
    import datetime as dt

    first = partitions.start.astimezone(dt.UTC).replace(tzinfo=None)
    if earliest >= first:
        return
    how = (
        f"C360_PARTITIONS_START={cfg.partitions_start} is later: unset it (partitions then begin at the "
        "earliest landing file) or set it on or before that day"
        if cfg.partitions_start is not None
        else "these definitions were loaded before that file landed: run the command again (or reload the "
        "code location in the UI)"
    )
    raise BadSelection(f"a landing file begins {earliest:%Y-%m-%d %H:%M}, before the first partition "
                       f"({first:%Y-%m-%d}); {how}")  # fmt: skip


def _step(partitions, group: list, partition_range: str | None, full_refresh: bool) -> Step | None:
    from orchestration.defs.shared import FULL_REFRESH_TAG, RELOAD_TAG

    names = [k.path[-1] for k in group]
    if partitions is None:
        tags = {FULL_REFRESH_TAG: "true"} if full_refresh and group[0].path[0] != "raw" else {}
        label = ", ".join(names) if group[0].path[0] == "raw" else f"{len(group)} models"
        return Step(group, tags, label)
    if partition_range:
        if "..." not in partition_range:
            raise BadSelection("--partition-range looks like FIRST...LAST, e.g. 2026-01-01-00...2026-01-03-23")
        first, last = (_normalize(k.strip(), partitions) for k in partition_range.split("..."))
        tags = {RANGE_START: first, RANGE_END: last}  # a re-run replaces these partitions exactly
    else:
        found = _catch_up_range(partitions, names)
        if found is None:
            return None  # every file of these sources is loaded and unchanged
        first, last, names = found
        group = [k for k in group if k.path[-1] in names]
        tags = {RANGE_START: first, RANGE_END: last, RELOAD_TAG: "changed"}  # catch up on new files only
    return Step(group, tags, f"{', '.join(names)} [{first} ... {last}]")


def plan(defs, keys: list, partition_range: str | None, full_refresh: bool = False) -> list[Step]:
    from orchestration.defs.ingest.partitions import LOAD_ORDER
    from orchestration.lib.instance import warehouse_tags

    graph = defs.resolve_asset_graph()
    sources = sorted((k for k in keys if k.path[0] == "raw"), key=lambda k: LOAD_ORDER.index(k.path[-1]))
    runs: list[tuple] = []  # (partitions, keys): the sources sharing a partitioning share a run
    for key in sources:
        partitions = graph.get(key).partitions_def
        group = next((g for p, g in runs if p == partitions), None)
        if group is None:
            runs.append((partitions, [key]))
        else:
            group.append(key)
    models = [k for k in keys if k.path[0] != "raw"]
    if partition_range and not any(partitions for partitions, _ in runs):
        raise BadSelection("--partition-range needs a time-partitioned source in --select (e.g. web_events)")
    steps = []
    for partitions, group in runs:
        step = _step(partitions, group, partition_range, full_refresh)
        if step is not None:
            steps.append(step)
    contracts = _contracts_step(graph, steps)
    if contracts is not None:  # the loads then run no checks of their own
        for step in steps:
            step.checks = set()
        steps.append(contracts)
    if models:
        steps.append(_step(None, models, partition_range, full_refresh))
    for step in steps:  # the same one-writer tag as the scheduled and sensor runs
        step.tags.update(warehouse_tags())
    return steps


def _contracts_step(graph, loads: list[Step]) -> Step | None:
    """One run verifying the contracts of every loaded source, after the last load.

    Dagster would store a planned check execution per check *per partition* of a range run (17 x 8,760
    rows for a year of hours), and the contracts check whole tables anyway. Verified once every source
    is in, each contract's reference checks (an order's customer, a payment's order) find their parents
    loaded, and the seven contracts cost one run, not one each. A lone load of one partition or of the
    unpartitioned shop sources (an hourly or daily run, the orders sensor's) keeps its checks in its run.
    """
    if len(loads) == 1 and loads[0].tags.get(RANGE_START) == loads[0].tags.get(RANGE_END):
        return None
    loaded = {k for step in loads for k in step.keys}
    checks = {k for k in graph.asset_check_keys if k.asset_key in loaded}
    names = ", ".join(k.path[-1] for step in loads for k in step.keys)
    return Step([], {}, f"contracts: {names}", checks) if checks else None


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


def _watch(instance, run_id: str, console: Console, stop: threading.Event, seen: list) -> None:
    """Print each asset as its materialization, failure or failed check lands in the run's event log.

    Reads only what is new since the last poll (the event log's cursor), not the whole log again.
    """
    from dagster import DagsterEventType

    wanted = {DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.STEP_FAILURE,
              DagsterEventType.ASSET_CHECK_EVALUATION}  # fmt: skip
    cursor = None
    while True:
        done = stop.wait(1.0)  # each poll opens the event log: ~25 ms of the main thread's time
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


def _job(defs, step: Step):
    """The run's job: the step's assets, and its checks (every check of those assets unless it names them)."""
    from orchestration.compat.dagster import implicit_job

    keys = step.keys or sorted({k.asset_key for k in step.checks})
    job = implicit_job(defs, keys)
    return job.get_subset(asset_selection=set(step.keys), asset_check_selection=step.checks)


def execute(defs, step: Step, instance, console: Console) -> tuple[bool, list]:
    seen: list = []
    run_id, stop = str(uuid.uuid4()), threading.Event()
    watcher = threading.Thread(target=_watch, args=(instance, run_id, console, stop, seen), daemon=True)
    watcher.start()
    try:
        result = _job(defs, step).execute_in_process(
            instance=instance,
            run_id=run_id,
            tags=step.tags,
            raise_on_error=False,
            # the watcher prints progress; Dagster's own console log only for warnings and errors
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    finally:
        stop.set()
        watcher.join()
    partitions: dict[str, list] = {}
    for r in seen:
        mat = r.dagster_event.event_specific_data.materialization if r.dagster_event.is_step_materialization else None
        if mat is not None and mat.partition:
            partitions.setdefault(mat.asset_key.to_user_string(), []).append(mat)
    for key, mats in sorted(partitions.items()):
        rows = mats[-1].metadata.get("dagster/row_count")
        total = f", {rows.value:,} rows in the table" if rows is not None else ""
        console.print(f"[green]built[/] {key}: {len(mats):,} partitions{total}")
    return result.success, seen


def materialize(
    select: str | None,
    console: Console,
    partition_range: str | None = None,
    full_refresh: bool = False,
    instance=None,
    timings: str | None = None,
) -> bool:
    """Plan and execute the runs for a selection; True when every run succeeded."""
    from dagster import DagsterInstance

    from orchestration.definitions import defs

    steps = plan(defs, _selection(select, defs), partition_range, full_refresh)
    ok, built = run_steps(defs, steps, instance or DagsterInstance.get(), console)
    _print_mart_counts(built, console)
    if timings:
        runs = [{"run": s.label, "seconds": s.seconds, "peak_rss_mib_so_far": s.peak_rss_mib} for s in steps]
        Path(timings).write_text(json.dumps(runs, indent=2))
    return ok


def run_steps(defs, steps: list[Step], instance, console: Console) -> tuple[bool, list]:
    from dagster import DagsterEventType

    table = Table(title="c360 materialize")
    for col in ("run", "assets", "built", "failed", "checks ok", "checks failed", "seconds"):
        table.add_column(col, justify="right" if col != "assets" else "left", no_wrap=col != "assets")
    ok, built = True, []
    for i, step in enumerate(steps, 1):
        console.print(f"[bold]run {i}/{len(steps)}[/]: {step.label}")
        started = time.perf_counter()
        success, seen = execute(defs, step, instance, console)
        step.seconds = round(time.perf_counter() - started, 2)
        step.peak_rss_mib = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB
        mats = [r for r in seen if r.dagster_event_type == DagsterEventType.ASSET_MATERIALIZATION]
        failed = [r for r in seen if r.dagster_event_type == DagsterEventType.STEP_FAILURE]
        checks = [r for r in seen if r.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION]
        passed = sum(1 for r in checks if r.dagster_event.event_specific_data.passed)
        status = "ok" if success else "FAILED"
        table.add_row(f"{i} {status}", step.label, str(len(mats)), str(len(failed)), str(passed),
                      str(len(checks) - passed), f"{step.seconds:.1f}")  # fmt: skip
        built += mats
        if not success:
            ok = False
            if not (failed and all(_refused_files_only(r) for r in failed)):
                break  # later steps depend on this one
            # only landing files were refused: the other sources, the contracts and the models go on, and
            # the gate holds back the models below the refusing source (orchestration/defs/quality/gate.py)
    console.print(table)
    return ok, built


def _refused_files_only(record) -> bool:
    """A step that failed because its source refused landing files (and loaded the rest)."""
    from orchestration.defs.ingest.assets import REFUSED_FILES

    failure = record.dagster_event.event_specific_data.user_failure_data
    return failure is not None and REFUSED_FILES in failure.metadata


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
