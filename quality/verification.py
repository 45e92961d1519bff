"""One dataset verification: run its contract, score it, keep it in the warehouse's history."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from c360_core.settings import Settings
from c360_core.warehouse import connect
from quality import store
from quality.score import DatasetScore, score
from quality.soda import CheckResult, contract_for, verify

THRESHOLDS = Path(__file__).parent / "thresholds.yml"


@cache
def _thresholds() -> dict[str, float]:
    return yaml.safe_load(THRESHOLDS.read_text())


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


def verify_dataset(cfg: Settings, dataset: str, run_id: str) -> Verification:
    """Soda reads the warehouse first; then one short write appends the results to the history."""
    results = verify(cfg, contract_for(dataset))
    scored = score(dataset, results)
    with connect(cfg) as wh:
        store.ensure_tables(wh)
        previous = store.previous_score(wh, dataset)
        store.record(wh, run_id, results, scored, min_score(cfg, dataset))
    return Verification(results, scored, min_score(cfg, dataset), previous)
