"""The CRM's daily export: customers who registered or changed that day."""

from __future__ import annotations

import numpy as np

from simulator import reference as ref
from simulator.config import STREAM_CRM, GeneratorConfig, iso
from simulator.population import Population, customer_rows

LOYALTY_THRESHOLDS = np.array([2, 5, 9, 14])  # counted orders to reach tiers 2..5


def loyalty_tier(orders: np.ndarray) -> np.ndarray:
    return 1 + np.searchsorted(LOYALTY_THRESHOLDS, orders, side="right")


def crm_day(pop: Population, cfg: GeneratorConfig, day: int) -> list[dict]:
    """Apply the day's life changes to the population and export changed records."""
    rng = cfg.rng(STREAM_CRM, day)
    registered = pop.reg_day <= day
    new = (pop.reg_day == day) | ((day == 0) & registered)
    moved = registered & (pop.move_day == day)
    married = registered & (pop.marry_day == day)
    born = registered & (pop.birth_day == day)
    tier = np.maximum(pop.loyalty, loyalty_tier(pop.orders))
    promoted = registered & (tier > pop.loyalty)

    pop.location[moved] = (pop.location[moved] + rng.integers(1, len(ref.LOCATIONS), moved.sum())) % len(ref.LOCATIONS)
    pop.street_no[moved] = rng.integers(1, 9999, moved.sum())
    pop.street[moved] = rng.integers(0, len(ref.STREETS), moved.sum())
    pop.marital[married] = 1
    pop.children[born] += 1
    pop.loyalty[promoted] = tier[promoted]

    changed = np.flatnonzero(new | moved | married | born | promoted)
    seconds = np.where(
        new[changed],
        np.maximum(pop.reg_second[changed], 0),
        rng.integers(8 * 3600, 20 * 3600, len(changed)),
    )
    start = cfg.day_start(day)
    # Pre-existing customers in the first file carry their registration time.
    reg_ts = cfg.day_start(0) + (pop.reg_day[changed] * 86400 + pop.reg_second[changed]).astype("timedelta64[s]")
    ts = np.where(new[changed] & (pop.reg_day[changed] < day), reg_ts, start + seconds.astype("timedelta64[s]"))
    return customer_rows(pop, cfg, changed, iso(ts))
