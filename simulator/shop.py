"""The shop database: orders (one record per status version), line items and payments.

Each day, alive customers form purchase intents at their latent rate times
seasonality; a purchase follows 0-3 days later (the browsing in between is
what makes sessions cluster before purchases). After a purchase a customer
churns with probability p_drop. Status changes are scheduled into an outbox
keyed by the day they happen, so late updates land in later micro-batches.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from simulator import fraud
from simulator import reference as ref
from simulator.catalog import Catalog
from simulator.config import STREAM_DEFECTS, STREAM_FRAUD, STREAM_SHOP, STREAM_TASTE, GeneratorConfig, iso
from simulator.population import Population, address

HOUR = 3600
DAY = 86400
CANCEL_RATE, RETURN_RATE = 0.04, 0.06
INTENT_DELAY_P = [0.4, 0.3, 0.2, 0.1]  # purchase 0..3 days after the intent
STYLE_SHARE = 0.5  # of a customer's product picks (outside the baby category), from their style


def season(cfg: GeneratorConfig, day: int) -> float:
    date = cfg.day(day)
    doy = date.timetuple().tm_yday
    holiday = 0.4 if (date.month == 11 and date.day >= 20) or (date.month == 12 and date.day <= 20) else 0.0
    return ref.WEEKDAY_WEIGHT[date.weekday()] * (1 + 0.15 * np.cos(2 * np.pi * (doy - 355) / 365.25) + holiday)


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    p = np.array(ref.HOUR_WEIGHT) / sum(ref.HOUR_WEIGHT)
    return rng.choice(24, size=n, p=p) * HOUR + rng.integers(0, HOUR, n)


class Outbox:
    """Records waiting for the day their timestamp (`_t`, epoch seconds) falls in."""

    def __init__(self, cfg: GeneratorConfig) -> None:
        self.epoch_day = int(cfg.day_start(0).astype("int64")) // DAY
        self.boxes: dict[int, list[dict]] = defaultdict(list)

    def put(self, row: dict) -> None:
        self.boxes[row["_t"] // DAY - self.epoch_day].append(row)

    def take(self, day: int) -> list[dict]:
        return sorted(self.boxes.pop(day, []), key=lambda r: r["_t"])


@dataclass
class DayOrders:
    """Today's purchases: one entry per order, items flattened with offsets."""

    customer: np.ndarray
    placed_at: np.ndarray  # epoch seconds
    item_offset: np.ndarray  # start of each order's items in the item arrays
    item_product: np.ndarray
    item_qty: np.ndarray
    item_price: np.ndarray
    discount: np.ndarray
    shipping: np.ndarray
    total: np.ndarray
    outcome: np.ndarray  # uniform draw deciding cancel / return / deliver
    intent_customers: np.ndarray  # customers who browsed with intent today, buying later
    transaction_id: list[str] = field(default_factory=list)
    planted: list[fraud.Planted] | None = None  # fraud-like orders: their method and addresses as planted

    @cached_property
    def n_items(self) -> np.ndarray:
        return np.diff(np.append(self.item_offset, len(self.item_product)))


class Shop:
    def __init__(self, cfg: GeneratorConfig, pop: Population, cat: Catalog) -> None:
        self.cfg, self.pop, self.cat = cfg, pop, cat
        self.orders, self.items, self.transactions = Outbox(cfg), Outbox(cfg), Outbox(cfg)
        self.pending: dict[int, list[np.ndarray]] = defaultdict(list)
        self.n_orders = self.n_lines = self.n_tx = 0
        self.placed, self.spent = np.zeros(pop.n, dtype=int), np.zeros(pop.n)  # every order so far, per customer
        self.planted: list[dict] = []  # the fraud-like orders, for the manifest
        self.fraud_events = 0

    def pick_products(self, rng, day: int, customers: np.ndarray, taste: np.random.Generator) -> np.ndarray:
        """Sample one product per entry, by customer taste and popularity; a share STYLE_SHARE of the picks
        outside the baby category come from the customer's style instead (drawn from `taste`, a stream of
        their own, so that every other draw is the same with or without styles)."""
        pop, cat = self.pop, self.cat
        category = (pop.prefs[customers] < rng.random(len(customers))[:, None]).sum(axis=1)
        life = (pop.expecting_day[customers] <= day) & (day < pop.birth_day[customers] + 180)
        baby = ref.CATEGORY_NAMES.index(ref.BABY_CATEGORY)
        category = np.where(life & (rng.random(len(customers)) < 0.6), baby, category)
        orderable = cat.orderable(day)
        out = np.empty(len(customers), dtype=int)
        for c in np.unique(category):
            pool = np.flatnonzero(orderable & (cat.category == c))
            cdf = np.cumsum(cat.popularity[pool])
            mask = category == c
            out[mask] = pool[np.searchsorted(cdf, rng.random(mask.sum()) * cdf[-1])]
        styled = (taste.random(len(customers)) < STYLE_SHARE) & (category != baby)
        style = pop.style[customers]
        for s in np.unique(style[styled]):
            pool = np.flatnonzero(orderable & (cat.style == s) & (cat.category != baby))
            mask = styled & (style == s)
            if len(pool):
                cdf = np.cumsum(cat.popularity[pool])
                out[mask] = pool[np.searchsorted(cdf, taste.random(mask.sum()) * cdf[-1])]
        return out

    def _intents(self, rng, day: int) -> np.ndarray:
        pop = self.pop
        active = pop.alive & (pop.reg_day <= day)
        p = 1 - np.exp(-pop.rate * season(self.cfg, day))
        intent = active & ((rng.random(pop.n) < p) | ((pop.reg_day == day) & (rng.random(pop.n) < 0.3)))
        who = np.flatnonzero(intent)
        delay = rng.choice(len(INTENT_DELAY_P), size=len(who), p=INTENT_DELAY_P)
        for d in range(len(INTENT_DELAY_P)):
            self.pending[day + d].append(who[delay == d])
        return who[delay > 0]

    def day(self, day: int) -> DayOrders:
        rng = self.cfg.rng(STREAM_SHOP, day)
        intents = self._intents(rng, day)
        buyers = np.concatenate(self.pending.pop(day, [np.empty(0, dtype=int)]))
        orders = self._baskets(rng, day, np.sort(buyers[self.pop.alive[buyers]]), intents)
        self._emit(rng, day, orders)
        np.add.at(self.placed, orders.customer, 1)
        np.add.at(self.spent, orders.customer, orders.total)
        if self.cfg.fraud_rate:
            self._plant_fraud(day, len(orders.customer))
        # Churn after purchase (BG/NBD), and count purchases that stick for loyalty tiers.
        drop = orders.customer[rng.random(len(orders.customer)) < self.pop.p_drop[orders.customer]]
        self.pop.alive[drop] = False
        self.pop.churn_day[drop] = day
        np.add.at(self.pop.orders, orders.customer[orders.outcome >= CANCEL_RATE + RETURN_RATE], 1)
        return orders

    def _baskets(self, rng, day: int, buyers: np.ndarray, intents: np.ndarray) -> DayOrders:
        n = len(buyers)
        n_items = np.minimum(1 + rng.poisson(self.pop.basket[buyers]), 8)
        product = self.pick_products(rng, day, np.repeat(buyers, n_items), self.cfg.rng(STREAM_TASTE, STREAM_SHOP, day))
        qty = 1 + rng.poisson(0.25, len(product))
        price = self.cat.sale_price[self.cat.week_of(day), product]
        subtotal = np.round(np.bincount(np.repeat(np.arange(n), n_items), qty * price, n), 2)
        rate = rng.choice([0.05, 0.1, 0.15, 0.2], n)
        discount = np.where(rng.random(n) < 0.25, np.round(subtotal * rate, 2), 0.0)
        shipping = np.where(subtotal >= 50, 0.0, 5.99)
        return DayOrders(
            customer=buyers,
            placed_at=int(self.cfg.day_start(day).astype("int64")) + time_of_day(rng, n),
            item_offset=np.concatenate([[0], np.cumsum(n_items)[:-1]]).astype(int),
            item_product=product,
            item_qty=qty,
            item_price=price,
            discount=discount,
            shipping=shipping,
            total=np.round(subtotal - discount + shipping, 2),
            outcome=rng.random(n),
            intent_customers=intents,
        )

    def _emit(self, rng, day: int, orders: DayOrders) -> None:
        buyers, placed, n = orders.customer, orders.placed_at, len(orders.customer)
        at = {
            "placed": placed,
            "ship": (ship := placed + rng.integers(12 * HOUR, 72 * HOUR, n)),
            "deliver": (deliver := ship + rng.integers(24 * HOUR, 144 * HOUR, n)),
            "cancel": placed + rng.integers(HOUR, 30 * HOUR, n),
            "return": deliver + rng.integers(2 * DAY, 20 * DAY, n),
            "paid": placed + rng.integers(5, 900, n),
        }
        at_iso = {k: iso(v.astype("datetime64[s]")) for k, v in at.items()}
        other_method = rng.integers(0, len(ref.PAYMENT_METHODS), n)
        method = np.where(rng.random(n) < 0.85, self.pop.payment[buyers], other_method)
        planted = orders.planted
        if planted is not None:
            method = np.array([p.method for p in planted])
        unknown = self._unknown_customers(day, n) if planted is None else {}
        for j in range(n):
            c = int(buyers[j])
            where = address(self.pop, c)  # billing and shipping: the customer's address at order time
            ship_to = planted[j].ship_to if planted is not None else None
            shipped = where if ship_to is None else address(self.pop, ship_to)
            order_id, tx_id = f"O{self.n_orders + 1:09d}", f"T{self.n_tx + 1:010d}"
            self.n_orders, self.n_tx = self.n_orders + 1, self.n_tx + 1
            orders.transaction_id.append(tx_id)
            customer_id = unknown.get(j, f"C{c + 1:07d}")
            amounts = {"discounted_amount": float(orders.discount[j]), "shipping_amount": float(orders.shipping[j]),
                       "total_amount": float(orders.total[j]), "payment_method": ref.PAYMENT_METHODS[method[j]],
                       "billing_address": where, "shipping_address": shipped, "transaction_id": tx_id}  # fmt: skip
            defects = {"_defects": [("unknown_customer", "customer_id")]} if j in unknown else {}
            versions = self._lifecycle(orders.outcome[j], {k: (int(at[k][j]), at_iso[k][j]) for k in at})
            for status, t, t_iso, delivered in versions:  # built in column order: the writer dumps it as is
                self.orders.put({"order_id": order_id, "customer_id": customer_id, "order_date": at_iso["placed"][j],
                                 "order_status": status, "order_delivery_date": delivered, **amounts,
                                 "updated_at": t_iso, "_t": t, **defects})  # fmt: skip
            base = {"order_id": order_id, **amounts}
            self._payments(rng, base, at["paid"][j], at_iso["paid"][j], versions[-1])
            for k in range(orders.item_offset[j], orders.item_offset[j] + orders.n_items[j]):
                self.n_lines += 1
                self.items.put({
                    "order_li_id": f"L{self.n_lines:010d}",
                    "order_id": order_id,
                    "product_id": str(self.cat.product_id[orders.item_product[k]]),
                    "qty": int(orders.item_qty[k]),
                    "unit_price": float(orders.item_price[k]),
                    "_t": int(placed[j]),
                })  # fmt: skip

    def _plant_fraud(self, day: int, n_regular: int) -> None:
        """Today's fraud-like orders (fraud.py), emitted like any other and listed in `planted`."""
        rng, pop, cat = self.cfg.rng(STREAM_FRAUD, day), self.pop, self.cat
        ctx = fraud.Context(self.cfg.fraud_rate, np.flatnonzero(pop.alive & (pop.reg_day <= day)), self.placed,
                            self.spent, pop.payment, cat.sale_price[cat.week_of(day)], cat.orderable(day),
                            self.fraud_events)  # fmt: skip
        events = fraud.plan(rng, int(self.cfg.day_start(day).astype("int64")), n_regular, ctx)
        self.fraud_events = ctx.next_event
        for planted in (order for event in events for order in event):
            price = np.array([ctx.price[p] for p in planted.products])
            qty = np.array(planted.quantities)
            subtotal = round(float((price * qty).sum()), 2)
            shipping = 0.0 if subtotal >= 50 else 5.99
            orders = DayOrders(
                customer=np.array([planted.customer]), placed_at=np.array([planted.placed_at]),
                item_offset=np.array([0]), item_product=np.array(planted.products), item_qty=qty, item_price=price,
                discount=np.array([0.0]), shipping=np.array([shipping]),
                total=np.array([round(subtotal + shipping, 2)]),
                outcome=np.array([1.0]), intent_customers=np.empty(0, dtype=int), planted=[planted],
            )  # fmt: skip
            self._emit(rng, day, orders)
            self.placed[planted.customer] += 1
            self.spent[planted.customer] += orders.total[0]
            placed = iso(np.array([planted.placed_at]).astype("datetime64[s]"))[0]
            self.planted.append({"event": planted.event, "pattern": planted.pattern,
                                 "customer_id": f"C{planted.customer + 1:07d}", "order_id": f"O{self.n_orders:09d}",
                                 "transaction_id": orders.transaction_id[0], "placed_at": placed})  # fmt: skip

    @staticmethod
    def _lifecycle(outcome: float, at: dict[str, tuple[int, str]]) -> list[tuple[str, int, str, str | None]]:
        """Status versions: (status, epoch, iso time, delivery date)."""
        versions = [("Processing", *at["placed"], None)]
        if outcome < CANCEL_RATE:
            return [*versions, ("Canceled", *at["cancel"], None)]
        delivered = at["deliver"][1]
        versions += [("Shipped", *at["ship"], None), ("Delivered", *at["deliver"], delivered)]
        if outcome < CANCEL_RATE + RETURN_RATE:
            versions.append(("Returned", *at["return"], delivered))
        return versions

    def _payments(self, rng, order: dict, paid_t: int, paid_iso: str, last_version: tuple) -> None:
        """The payment at checkout, and a refund once an order is canceled or returned."""
        common = {"order_id": order["order_id"], "payment_method": order["payment_method"]}
        payment = {"transaction_id": order["transaction_id"], **common, "amount": order["total_amount"]}
        self.transactions.put({**payment, "transaction_ts": paid_iso, "_t": int(paid_t)})
        status, t, _, _ = last_version
        if status in ("Canceled", "Returned"):
            self.n_tx += 1
            refund_t = int(t) + int(rng.integers(HOUR, 48 * HOUR))
            refund_iso = iso(np.array([refund_t]).astype("datetime64[s]"))[0]
            refund = {"transaction_id": f"T{self.n_tx:010d}", **common, "amount": -order["total_amount"]}
            self.transactions.put({**refund, "transaction_ts": refund_iso, "_t": refund_t})

    def _unknown_customers(self, day: int, n: int) -> dict[int, str]:
        """Defect: orders placed under customer ids the CRM has never seen."""
        if not self.cfg.defects:
            return {}
        rng = self.cfg.rng(STREAM_DEFECTS, 1000, day)
        hit = np.flatnonzero(rng.random(n) < self.cfg.defects)
        return {int(j): f"C{self.pop.n + 1 + int(rng.integers(0, 10**6)):07d}" for j in hit}
