"""Executing a plan (orchestration/plan.py): each step as an in-process Dagster run, one after another, with
every materialization, failure and check result handed to a callback as it lands in the event log.

After a failed run the next runs do not start (they depend on it), unless every failure of the run was a
source refusing landing files: then the other sources, the contracts and the models go on, and the blocking
gate holds back the models below the refusing source (orchestration/defs/quality/gate.py).
"""

from __future__ import annotations

import resource
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from orchestration.plan import Step


@dataclass
class StepResult:
    step: Step
    success: bool
    built: int
    failed: int
    checks_passed: int
    checks_failed: int


Listener = Callable[[object], None]  # called with each EventLogEntry of interest, as it lands


def _watch(instance, run_id: str, listener: Listener, stop: threading.Event, seen: list) -> None:
    """Hand each materialization, step failure and check result of the run to `listener` as it lands in the
    event log. Reads only what is new since the last poll (the event log's cursor), not the whole log again."""
    from dagster import DagsterEventType  # noqa: PLC0415

    wanted = {DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.STEP_FAILURE,
              DagsterEventType.ASSET_CHECK_EVALUATION}  # fmt: skip
    cursor = None
    while True:
        done = stop.wait(1.0)  # each poll opens the event log: ~25 ms of the main thread's time
        while True:
            page = instance.get_records_for_run(run_id, cursor=cursor, of_type=wanted, limit=500)
            for record in page.records:
                seen.append(record.event_log_entry)
                listener(record.event_log_entry)
            cursor = page.cursor
            if not page.has_more:
                break
        if done:
            return


def _job(defs, step: Step):
    """The run's job: the step's assets, and its checks (every check of those assets unless it names them)."""
    from orchestration.compat.dagster import implicit_job  # noqa: PLC0415

    keys = step.keys or sorted({k.asset_key for k in step.checks})
    job = implicit_job(defs, keys)
    return job.get_subset(asset_selection=set(step.keys), asset_check_selection=step.checks)


def execute(defs, step: Step, instance, listener: Listener) -> tuple[bool, list]:
    """Run one step in this process; (success, the events of interest)."""
    seen: list = []
    run_id, stop = str(uuid.uuid4()), threading.Event()
    watcher = threading.Thread(target=_watch, args=(instance, run_id, listener, stop, seen), daemon=True)
    watcher.start()
    try:
        result = _job(defs, step).execute_in_process(
            instance=instance,
            run_id=run_id,
            tags=step.tags,
            raise_on_error=False,
            # the listener reports progress; Dagster's own console log only for warnings and errors
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    finally:
        stop.set()
        watcher.join()
    return result.success, seen


def run_steps(
    defs,
    steps: list[Step],
    instance,
    listener: Listener = lambda _: None,
    *,
    on_start: Callable[[int, Step], None] = lambda *_: None,
    on_done: Callable[[StepResult, list], None] = lambda *_: None,
) -> tuple[bool, list, list[StepResult]]:
    """Execute the steps in order: (every run succeeded, the materializations, each step's result)."""
    from dagster import DagsterEventType  # noqa: PLC0415

    ok, built, results = True, [], []
    for i, step in enumerate(steps, 1):
        on_start(i, step)
        started = time.perf_counter()
        success, seen = execute(defs, step, instance, listener)
        step.seconds = round(time.perf_counter() - started, 2)
        step.peak_rss_mib = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB
        mats = [r for r in seen if r.dagster_event_type == DagsterEventType.ASSET_MATERIALIZATION]
        failed = [r for r in seen if r.dagster_event_type == DagsterEventType.STEP_FAILURE]
        checks = [r for r in seen if r.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION]
        passed = sum(1 for r in checks if r.dagster_event.event_specific_data.passed)
        result = StepResult(step, success, len(mats), len(failed), passed, len(checks) - passed)
        results.append(result)
        on_done(result, seen)
        built += mats
        if not success:
            ok = False
            if not (failed and all(_refused_files_only(r) for r in failed)):
                break  # later steps depend on this one
    return ok, built, results


def _refused_files_only(record) -> bool:
    """A step that failed because its source refused landing files (and loaded the rest)."""
    from orchestration.defs.ingest.assets import REFUSED_FILES  # noqa: PLC0415

    failure = record.dagster_event.event_specific_data.user_failure_data
    return failure is not None and REFUSED_FILES in failure.metadata
