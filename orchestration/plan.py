"""The plan of a materialization: a selection of assets becomes a short list of runs.

Dagster runs one partitioning per run, so the plan is one run per partitioning of the selected sources (a
single-run backfill of its range, or of the partitions with new or changed files), one run verifying all
their contracts once every source is loaded, then one run for the models. `orchestration/runs.py` executes
it; `c360 materialize` shows it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import dagster as dg

from c360_core.settings import settings
from c360_core.warehouse import connect
from landing import SOURCES, period_of
from orchestration.defs.ingest.partitions import LOAD_ORDER
from orchestration.defs.shared import FULL_REFRESH_TAG, RELOAD_TAG
from orchestration.lib.instance import warehouse_tags
from orchestration.lib.load import pending_files

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


def selection(select: str | None, defs) -> list:
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
