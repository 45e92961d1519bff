"""Fraud-like patterns planted among the shop's orders, so an anomaly detector has a truth to be judged on.

Each day draws Poisson(`fraud_rate` x the day's regular orders) events, each of one of four kinds, from its
own random stream (the regular orders are the same with or without them). An event is one or more real
orders, with lines, a payment and a lifecycle like any other, consistent with every contract; every order
of an event is listed in `_manifest/anomalies.csv` with its pattern.

- `card_testing`: a burst of 4-8 orders of one cheap item each (the cheapest tenth of the catalogue),
  30-180 s apart, by one customer with one payment method;
- `high_value_first_order`: a customer's first order, 5-8 of the dearest twentieth of the catalogue, 1-2
  of each, shipped to an address that is not the billing one;
- `payment_hopping`: 3-5 ordinary orders within two hours, each paid with another payment method;
- `amount_outlier`: a customer with three or more orders before gets one worth 8-15 times their mean order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import reference as ref

PATTERNS = ("card_testing", "high_value_first_order", "payment_hopping", "amount_outlier")
DEFAULT_RATE = 0.002  # events per regular order
HOUR = 3600


@dataclass(frozen=True)
class Planted:
    """One planted order: its event, pattern and customer."""

    event: int
    pattern: str
    customer: int
    placed_at: int
    products: tuple[int, ...]
    quantities: tuple[int, ...]
    method: int
    ship_to: int | None = None  # another customer whose address the order ships to


def plan(rng: np.random.Generator, day_start: int, n_regular: int, ctx: Context) -> list[list[Planted]]:
    """Today's events, each a list of orders, for a shop in state `ctx`."""
    events = []
    for _ in range(int(rng.poisson(ctx.rate * n_regular))):
        pattern = PATTERNS[int(rng.integers(len(PATTERNS)))]
        made = _EVENTS[pattern](rng, day_start + int(rng.integers(8 * HOUR, 21 * HOUR)), ctx)
        if made:
            events.append(made)
    return events


@dataclass
class Context:
    """What an event may draw on: who can order, what they spent, what is on sale today."""

    rate: float
    active: np.ndarray  # customer indices alive and registered
    orders: np.ndarray  # orders placed so far, per customer
    spent: np.ndarray  # their total, per customer
    payment: np.ndarray  # each customer's usual method
    price: np.ndarray  # today's price per product
    orderable: np.ndarray  # products on sale today
    next_event: int = 0

    def event_id(self) -> int:
        self.next_event += 1
        return self.next_event

    def products(self, lowest: float, highest: float) -> np.ndarray:
        """The orderable products whose price lies between two quantiles of today's prices."""
        prices = self.price[self.orderable]
        low, high = np.quantile(prices, [lowest, highest])
        return np.flatnonzero(self.orderable & (self.price >= low) & (self.price <= high))


def _card_testing(rng, at: int, ctx: Context) -> list[Planted]:
    customer, cheap, event = int(rng.choice(ctx.active)), ctx.products(0.0, 0.1), ctx.event_id()
    method, n = int(ctx.payment[customer]), int(rng.integers(4, 9))
    gaps = np.cumsum(rng.integers(30, 181, n)) - 30
    return [Planted(event, "card_testing", customer, at + int(g), (int(rng.choice(cheap)),), (1,), method)
            for g in gaps]  # fmt: skip


def _high_value_first(rng, at: int, ctx: Context) -> list[Planted]:
    new = ctx.active[ctx.orders[ctx.active] == 0]
    if not len(new):
        return []
    customer, dear = int(rng.choice(new)), ctx.products(0.95, 1.0)
    items = rng.choice(dear, size=int(rng.integers(5, 9)))
    other = int(rng.choice(ctx.active[ctx.active != customer]))
    quantities = tuple(int(q) for q in rng.integers(1, 3, len(items)))
    return [Planted(ctx.event_id(), "high_value_first_order", customer, at, tuple(int(p) for p in items),
                    quantities, int(ctx.payment[customer]), other)]  # fmt: skip


def _payment_hopping(rng, at: int, ctx: Context) -> list[Planted]:
    customer, event, n = int(rng.choice(ctx.active)), ctx.event_id(), int(rng.integers(3, 6))
    others = [m for m in range(len(ref.PAYMENT_METHODS)) if m != ctx.payment[customer]]
    methods = [int(ctx.payment[customer]), *rng.permutation(others)[: n - 1].tolist()]
    times = at + np.sort(rng.integers(0, 2 * HOUR, n))
    middle, sizes = ctx.products(0.2, 0.8), rng.integers(1, 4, n)
    return [Planted(event, "payment_hopping", customer, int(t), tuple(int(p) for p in rng.choice(middle, k)),
                    (1,) * k, int(m)) for t, m, k in zip(times, methods, sizes, strict=True)]  # fmt: skip


def _amount_outlier(rng, at: int, ctx: Context) -> list[Planted]:
    regulars = ctx.active[ctx.orders[ctx.active] >= 3]
    if not len(regulars):
        return []
    customer, dear = int(rng.choice(regulars)), ctx.products(0.8, 1.0)
    target = float(rng.uniform(8, 15)) * ctx.spent[customer] / ctx.orders[customer]
    items: list[int] = []
    while sum(ctx.price[p] for p in items) < target and len(items) < 40:
        items.append(int(rng.choice(dear)))
    return [Planted(ctx.event_id(), "amount_outlier", customer, at, tuple(items), (1,) * len(items),
                    int(ctx.payment[customer]))]  # fmt: skip


_EVENTS = {"card_testing": _card_testing, "high_value_first_order": _high_value_first,
           "payment_hopping": _payment_hopping, "amount_outlier": _amount_outlier}  # fmt: skip
