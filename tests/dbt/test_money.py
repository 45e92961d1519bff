"""Money is exact: planted orders give groups of customers equal totals that straddle every RFM quintile
boundary, each total reached by a different split into amounts (the kind whose floating-point sums come
out a hair apart: 282.55 as 282.54999999999995). On each target the totals equal the exact sums of the
files, and equal totals get equal monetary scores, as CONTRACT.md's ceil(5 * cume_dist()) says."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.support import expected
from tests.support.warehouse import AS_OF, END, env, fork, landing_of, materialize_all, query, target_env

# the splits of one total into orders: one amount, or small "binary-unfriendly" amounts plus the rest
SPLITS = ([], ["0.10", "0.20"], ["0.70", "0.10", "0.20", "0.01"], ["0.30", "0.60", "0.07"])


def _plan(current: dict[str, Decimal]) -> tuple[dict[str, Decimal], list[list[str]]]:
    """A target total per buyer, at least its current total: distinct values, except one group of three
    around each quintile boundary of the ranking (positions b-1, b and b+1 for b = n/5, 2n/5, ...)."""
    ranked = sorted(current, key=lambda c: (current[c], c))
    n = len(ranked)
    groups = [[ranked[i] for i in (b - 2, b - 1, b)] for b in (round(n * j / 5) for j in range(1, 5))]
    tied = {c: g[0] for g in groups for c in g}
    base = max(current.values()) + Decimal("1000.07")
    targets, step = {}, Decimal("3.31")
    for c in ranked:
        anchor = ranked.index(tied.get(c, c))  # a group takes its first member's value
        targets[c] = base + step * anchor
    return targets, groups


def _orders(targets: dict[str, Decimal], current: dict[str, Decimal], template: dict) -> list[dict]:
    out = []
    for i, (customer, target) in enumerate(sorted(targets.items())):
        parts = [Decimal(p) for p in SPLITS[i % len(SPLITS)]]
        parts.append(target - current[customer] - sum(parts, Decimal(0)))
        assert parts[-1] > 0
        stamp = f"{END.isoformat()}T12:00:00Z"
        for k, amount in enumerate(parts):
            order = {"order_id": f"TIE-{i}-{k}", "customer_id": customer, "transaction_id": f"TT-{i}-{k}",
                     "order_status": "Delivered", "order_date": stamp, "updated_at": stamp,
                     "discounted_amount": 0.0, "shipping_amount": 0.0, "total_amount": float(amount)}  # fmt: skip
            out.append({**template, **order})
    return out


@pytest.fixture(scope="module")
def tied(built, tmp_path_factory) -> Iterator[tuple[dict, dict[str, Decimal], list[list[str]]]]:
    values = target_env(built["C360_TARGET"], tmp_path_factory.mktemp("money"), f"c360_test_{uuid.uuid4().hex[:8]}")
    with fork(built, values):
        landing = landing_of(values)
        current = {c: v["total_order_value"] for c, v in expected.customer_orders(landing, AS_OF).items()}
        targets, groups = _plan(current)
        template = expected.latest_orders(landing)[min(expected.latest_orders(landing))]
        path = landing / "shop" / "orders" / f"orders_{END.isoformat()}T23-59.jsonl"
        assert not path.exists()
        path.write_text("".join(json.dumps(o) + "\n" for o in _orders(targets, current, template)))
        with env(values):
            assert materialize_all(), f"the materialization with planted totals failed on {values['C360_TARGET']}"
        yield values, targets, groups


def test_totals_are_the_exact_sums_of_the_files(tied):
    values, targets, _ = tied
    got = dict(query(values, "select customer_id, total_order_value from marts.customer_360 where orders_count > 0"))
    assert got == targets  # Decimal == Decimal: to the cent, no tolerance


def test_equal_totals_at_every_quintile_boundary_score_equally(tied):
    values, targets, groups = tied
    n = len(targets)
    ranked = sorted(targets.values())
    for group in groups:  # each group straddles a boundary: its members rank on both sides of it
        first, last = ranked.index(targets[group[0]]) + 1, ranked.index(targets[group[0]]) + len(group)
        assert math.ceil(5 * first / n) < math.ceil(5 * last / n)
    want = expected.rfm(landing_of(values), AS_OF)  # ceil(5 * cume_dist()), ties together, from the files
    got = dict(query(values, "select customer_id, rfm_monetary_score from marts.customer_360 where orders_count > 0"))
    assert got == {c: scores[2] for c, scores in want.items()}
    for group in groups:
        assert len({got[c] for c in group}) == 1, [(c, targets[c], got[c]) for c in group]
