"""Quality history in the warehouse: one row per check and one score per dataset, per verification.

Nothing here is ever updated or deleted: the history is what marts.data_quality_daily trends over,
and the latest verification of a dataset is what the dbt gate reads.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from c360_core.warehouse import Warehouse, arrow_table, create_table
from quality.score import DatasetScore, check_score
from quality.soda import DIMENSIONS, CheckResult

CHECK_COLUMNS = {
    "verification_id": "varchar", "run_id": "varchar", "dataset": "varchar", "check_name": "varchar",
    "description": "varchar", "check_type": "varchar", "columns": "varchar", "dimension": "varchar",
    "severity": "varchar", "spec": "varchar", "outcome": "varchar", "value": "double", "failed_rows": "bigint",
    "rows_tested": "bigint", "check_score": "double", "diagnostics": "varchar", "verified_at": "timestamp",
}  # fmt: skip
SCORE_COLUMNS = {
    "verification_id": "varchar", "run_id": "varchar", "dataset": "varchar", "score": "double",
    **{f"{d}_score": "double" for d in DIMENSIONS},
    "checks_total": "integer", "checks_failed": "integer", "blocking_failed": "integer",
    "blocking_checks_failed": "varchar", "min_score": "double", "verified_at": "timestamp",
}  # fmt: skip


def ensure_tables(wh: Warehouse) -> None:
    create_table(wh, "quality.check_results", CHECK_COLUMNS)
    create_table(wh, "quality.dataset_scores", SCORE_COLUMNS)


def record(wh: Warehouse, run_id: str, results: list[CheckResult], scored: DatasetScore, min_score: float) -> str:
    """Append one verification (its checks and its score) in one transaction; returns its id."""
    verification_id, now = str(uuid.uuid4()), dt.datetime.now(dt.UTC).replace(tzinfo=None)
    checks = [
        (verification_id, run_id, r.dataset, r.check, r.name, r.check_type, ",".join(r.columns), r.dimension,
         r.severity, r.spec, r.outcome, r.value, r.failed_rows, r.rows_tested, check_score(r),
         json.dumps(r.diagnostics, default=str), now)
        for r in results
    ]  # fmt: skip
    score_row = (
        verification_id, run_id, scored.dataset, scored.score, *(scored.dimensions[d] for d in DIMENSIONS),
        scored.checks_total, scored.checks_failed, len(scored.blocking_failed), ",".join(scored.blocking_failed),
        min_score, now,
    )  # fmt: skip
    with wh.transaction():
        wh.insert_arrow("quality.check_results", arrow_table(CHECK_COLUMNS, checks))
        wh.insert_arrow("quality.dataset_scores", arrow_table(SCORE_COLUMNS, [score_row]))
    return verification_id


def previous_score(wh: Warehouse, dataset: str) -> float | None:
    _, rows = wh.query(
        "select score from quality.dataset_scores where dataset = ? order by verified_at desc limit 1", [dataset]
    )
    return rows[0][0] if rows else None


def blocked_datasets(wh: Warehouse) -> dict[str, list[str]]:
    """Datasets whose latest verification failed a blocking check: {dataset: [check names]}."""
    ensure_tables(wh)
    _, rows = wh.query(
        """
        select dataset, blocking_checks_failed
        from (
            select dataset, blocking_failed, blocking_checks_failed,
                   row_number() over (partition by dataset order by verified_at desc) as recency
            from quality.dataset_scores
        ) as latest
        where recency = 1 and blocking_failed > 0
        """
    )
    return {dataset: checks.split(",") for dataset, checks in rows}
