"""One dataset verification: run its contract, score it, keep it in the warehouse's history."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from c360_core.settings import Settings
from c360_core.warehouse import connect
from quality import store
from quality.score import DatasetScore, score
from quality.soda import CheckResult, contract_for, read_yaml, verify

THRESHOLDS = Path(__file__).parent / "thresholds.yml"


@cache
def _thresholds() -> dict[str, float]:
    return read_yaml(THRESHOLDS)


def min_score(cfg: Settings, dataset: str) -> float:
    if cfg.quality_min_score is not None:
        return cfg.quality_min_score
    thresholds = _thresholds()
    return float(thresholds.get(dataset, thresholds["default"]))


@dataclass
class Verification:
    results: list[CheckResult]
    scored: DatasetScore
    min_score: float
    previous_score: float | None

    @property
    def below_threshold(self) -> bool:
        return self.scored.score < self.min_score


def batch_since_last_verification(cfg: Settings, dataset: str) -> str | None:
    """The rows loaded since the dataset's last verification, as a SQL condition (None: never verified)."""
    with connect(cfg) as wh:
        store.ensure_tables(wh)
        _, [(last,)] = wh.query("select max(verified_at) from quality.dataset_scores where dataset = ?", [dataset])
    return f"_loaded_at > timestamp '{last.isoformat(sep=' ')}'" if last else None


def verify_dataset(cfg: Settings, dataset: str, run_id: str, full: bool = True) -> Verification:
    """Soda reads the warehouse first; then one short write appends the results to the history.

    With `full` False, a batched contract (raw.web_events) checks only the rows loaded since its last
    verification, and the whole-table invariants it keeps cheap; the first verification is always full.
    """
    contract = contract_for(dataset)
    batch = None if full or not contract.batched else batch_since_last_verification(cfg, dataset)
    results = verify(cfg, contract, batch)
    scored = score(dataset, results)
    with connect(cfg) as wh:
        store.ensure_tables(wh)
        previous = store.previous_score(wh, dataset)
        store.record(wh, run_id, results, scored, min_score(cfg, dataset))
    return Verification(results, scored, min_score(cfg, dataset), previous)
