"""The 0-100 quality score of one dataset verification (the formula docs/quality.md documents).

- A check scores 1 - failed/tested when it reports failed rows (missing, invalid, duplicate and
  failed-rows checks), whether or not it is under its threshold: 2% bad rows cost 2%.
  Any other check (schema, row count, freshness, metric) scores 1 when it passes, else 0.
  A check that could not be evaluated scores 0: what cannot be checked cannot be trusted.
- A dimension scores the mean of its checks.
- The dataset scores 100 x the weighted mean of the dimensions it has checks in.
"""

from __future__ import annotations

from dataclasses import dataclass

from quality.soda import DIMENSIONS, CheckResult

WEIGHTS = {"completeness": 0.25, "accuracy": 0.2, "consistency": 0.15, "timeliness": 0.1, "uniqueness": 0.15,
           "validity": 0.15}  # fmt: skip
assert set(WEIGHTS) == set(DIMENSIONS) and abs(sum(WEIGHTS.values()) - 1) < 1e-9


def check_score(result: CheckResult) -> float:
    if result.outcome == "not_evaluated":
        return 0.0
    if result.failed_rows is not None and result.rows_tested:
        return max(0.0, 1.0 - result.failed_rows / result.rows_tested)
    return 1.0 if result.passed else 0.0


@dataclass
class DatasetScore:
    dataset: str
    score: float
    dimensions: dict[str, float | None]
    checks_total: int
    checks_failed: int
    blocking_failed: list[str]  # names of the failed blocking checks


def score(dataset: str, results: list[CheckResult]) -> DatasetScore:
    per_dimension: dict[str, list[float]] = {d: [] for d in DIMENSIONS}
    for r in results:
        per_dimension[r.dimension].append(check_score(r))
    dimensions = {d: (sum(s) / len(s) if s else None) for d, s in per_dimension.items()}
    present = {d: v for d, v in dimensions.items() if v is not None}
    weighted = sum(WEIGHTS[d] * v for d, v in present.items()) / sum(WEIGHTS[d] for d in present) if present else 0
    total = round(100 * weighted, 6)  # no float dust: clean data scores exactly 100
    return DatasetScore(
        dataset=dataset,
        score=total,
        dimensions={d: (None if v is None else 100 * v) for d, v in dimensions.items()},
        checks_total=len(results),
        checks_failed=sum(not r.passed for r in results),
        blocking_failed=[r.check for r in results if r.severity == "blocking" and not r.passed],
    )
