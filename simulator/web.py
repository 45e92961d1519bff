"""Web analytics: sessions and their events, one day at a time.

Session kinds: browsing by known customers (at a rate tied to their purchase
rate, nearly stopping once they churn), intent browsing ahead of a purchase,
the purchase session itself (ending in one `order_placed` event per line item
at the shop's order time), and anonymous visitors. Events are expanded from
per-session counts with numpy, never a Python loop per session.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import reference as ref
from simulator.catalog import Catalog
from simulator.config import STREAM_CHANNEL, STREAM_TASTE, STREAM_WEB, GeneratorConfig
from simulator.population import Population
from simulator.shop import DayOrders, Shop, season, time_of_day

BROWSE, INTENT, PURCHASE, ANONYMOUS = range(4)
PV, VIEW, FAV, CART, REMOVE, ORDER = range(6)
CHURNED_BROWSE_FACTOR = 0.08
ANON_SESSIONS_PER_CUSTOMER_DAY = 0.01
RESPONSIVE_SHARE = 0.6  # of a customer's purchase visits, through their responsive channel


@dataclass
class Sessions:
    customer: np.ndarray  # customer index, -1 for anonymous visitors
    kind: np.ndarray
    order: np.ndarray  # index into today's orders for purchase sessions, else -1
    counts: np.ndarray = None  # [session, action] number of events
    start: np.ndarray = None  # epoch seconds


@dataclass
class Events:
    sess: np.ndarray  # session of each event
    action: np.ndarray
    type_pos: np.ndarray  # position within its (session, action) block
    first: np.ndarray  # index of the session's first event
    product: np.ndarray = None
    qty: np.ndarray = None
    ts: np.ndarray = None

    @classmethod
    def expand(cls, counts: np.ndarray) -> Events:
        per_session = counts.sum(axis=1)
        sess = np.repeat(np.arange(len(counts)), per_session)
        action = np.repeat(np.tile(np.arange(counts.shape[1]), len(counts)), counts.ravel())
        block_start = np.repeat(np.cumsum(np.append(0, counts.ravel()))[:-1], counts.ravel())
        first = np.repeat(np.cumsum(np.append(0, per_session))[:-1], per_session)
        return cls(sess, action, np.arange(len(sess)) - block_start, first)


def _sessions(rng, pop: Population, cfg: GeneratorConfig, day: int, orders: DayOrders) -> Sessions:
    s = season(cfg, day)
    registered = pop.reg_day <= day
    lam = pop.browse * s * np.where(pop.alive, 1.0, CHURNED_BROWSE_FACTOR) * registered
    browsers = np.repeat(np.arange(pop.n), rng.poisson(lam))
    n_anon = rng.poisson(ANON_SESSIONS_PER_CUSTOMER_DAY * pop.n * s)
    customer = np.concatenate([browsers, orders.intent_customers, orders.customer, np.full(n_anon, -1)])
    sizes = [len(browsers), len(orders.intent_customers), len(orders.customer), n_anon]
    kind = np.repeat([BROWSE, INTENT, PURCHASE, ANONYMOUS], sizes)
    order = np.where(kind == PURCHASE, np.cumsum(kind == PURCHASE) - 1, -1)
    return Sessions(customer, kind, order)


def _counts(rng, pop: Population, ses: Sessions, orders: DayOrders) -> np.ndarray:
    kind, n = ses.kind, len(ses.kind)
    items = np.zeros(n, dtype=int)
    purchase = kind == PURCHASE
    items[purchase] = orders.n_items
    bounce = ((kind == BROWSE) | (kind == ANONYMOUS)) & (rng.random(n) < 0.3)
    views = (
        np.select(
            [kind == BROWSE, kind == INTENT, purchase],
            [1 + rng.poisson(2.0, n), 2 + rng.poisson(3.0, n), items + rng.poisson(1.5, n)],
            rng.poisson(2.0, n),
        )
        * ~bounce
    )
    abandon = pop.abandon[np.maximum(ses.customer, 0)]
    carts = np.select(
        [kind == BROWSE, kind == INTENT, purchase],
        [(rng.random(n) < abandon) * (1 + rng.poisson(0.3, n)), rng.binomial(views, 0.25), items],
        rng.binomial(views, 0.05),
    )
    carts = np.minimum(carts, views)
    counts = np.zeros((n, 6), dtype=int)
    counts[:, PV] = 1 + rng.poisson(0.8, n) * ~bounce
    counts[:, VIEW] = views
    counts[:, FAV] = rng.binomial(views, np.where(kind == INTENT, 0.15, 0.08))
    counts[:, CART] = carts
    counts[:, REMOVE] = (carts > 0) & ~purchase & (rng.random(n) < 0.1)
    counts[:, ORDER] = items
    return counts


class Web:
    def __init__(self, cfg: GeneratorConfig, pop: Population, cat: Catalog, shop: Shop) -> None:
        self.cfg, self.pop, self.cat, self.shop = cfg, pop, cat, shop
        self.customer_ids = pop.customer_id.astype("S")
        self.skus = cat.sku_id.astype("S")
        self.today: EventBatch | None = None
        self.spill: EventBatch | None = None

    def day(self, day: int, orders: DayOrders) -> None:
        rng = self.cfg.rng(STREAM_WEB, day)
        ses = _sessions(rng, self.pop, self.cfg, day, orders)
        ses.counts = _counts(rng, self.pop, ses, orders)
        ev = Events.expand(ses.counts)
        self._products(rng, day, ses, ev, orders)
        self._times(rng, day, ses, ev, orders)
        self._emit(rng, day, ses, ev, orders)

    def _products(self, rng, day: int, ses: Sessions, ev: Events, orders: DayOrders) -> None:
        sess, action, type_pos = ev.sess, ev.action, ev.type_pos
        ev.product = np.full(len(sess), -1)
        ev.qty = np.zeros(len(sess), dtype=int)
        offsets = np.append(orders.item_offset, 0)  # padded so sessions without an order index safely
        item = np.where(ses.order[sess] >= 0, offsets[ses.order[sess]] + type_pos, -1)
        is_item = (ses.kind[sess] == PURCHASE) & (
            ((action == VIEW) & (type_pos < ses.counts[sess, ORDER])) | (action == CART) | (action == ORDER)
        )
        ev.product[is_item] = orders.item_product[item[is_item]]
        bought = is_item & (action != VIEW)
        ev.qty[bought] = orders.item_qty[item[bought]]
        free_view = (action == VIEW) & ~is_item
        who = ses.customer[sess[free_view]]
        # anonymous visitors browse with the taste of a random customer
        who = np.where(who < 0, rng.integers(0, self.pop.n, len(who)), who)
        ev.product[free_view] = self.shop.pick_products(rng, day, who, self.cfg.rng(STREAM_TASTE, STREAM_WEB, day))
        # favourites, browse carts and removals refer to products viewed earlier in the session
        view_start = np.cumsum(np.append(0, ses.counts.sum(axis=1)))[:-1] + ses.counts[:, PV]
        ref_view = (action == FAV) | ((action == CART) & ~is_item) | (action == REMOVE)
        ev.product[ref_view] = ev.product[view_start[sess[ref_view]] + type_pos[ref_view]]
        ev.qty[((action == CART) & ~is_item) | (action == REMOVE)] = 1

    def _times(self, rng, day: int, ses: Sessions, ev: Events, orders: DayOrders) -> None:
        gaps = (5 + rng.exponential(40.0, len(ev.sess))).astype(np.int64)
        gaps[ev.first == np.arange(len(ev.sess))] = 0
        gaps[(ev.action == ORDER) & (ev.type_pos > 0)] = 0
        elapsed = np.cumsum(gaps)
        elapsed -= elapsed[ev.first]
        duration = np.bincount(ev.sess, weights=gaps, minlength=len(ses.kind)).astype(np.int64)
        day_start = int(self.cfg.day_start(day).astype("int64"))
        start = day_start + time_of_day(rng, len(ses.kind))
        purchase = ses.kind == PURCHASE
        placed = orders.placed_at[ses.order[purchase]]
        # purchase sessions end exactly at the order time, squeezed to start no earlier than midnight
        start[purchase] = np.maximum(placed - duration[purchase], day_start)
        scale = np.ones(len(ses.kind))
        scale[purchase] = (placed - start[purchase]) / np.maximum(duration[purchase], 1)
        ev.ts = start[ev.sess] + np.floor(elapsed * scale[ev.sess]).astype(np.int64)
        placing = ev.action == ORDER
        ev.ts[placing] = orders.placed_at[ses.order[ev.sess[placing]]]
        ses.start = start

    def _session_attributes(self, rng, ses: Sessions, day: int) -> tuple[np.ndarray, list[str], np.ndarray]:
        n_s, customer, pop = len(ses.kind), ses.customer, self.pop
        loyal = (customer >= 0) & (rng.random(n_s) < 0.7)
        random_channel = rng.choice(len(ref.CHANNELS), n_s, p=ref.CHANNEL_WEIGHT)
        channel = np.where(loyal, pop.channel[np.maximum(customer, 0)], random_channel)
        # a purchase visit comes through the channel the customer responds to, RESPONSIVE_SHARE of the time (drawn
        # from a stream of its own: every other draw is as without it)
        responds = (ses.kind == PURCHASE) & (self.cfg.rng(STREAM_CHANNEL, day).random(n_s) < RESPONSIVE_SHARE)
        channel = np.where(responds, pop.responsive[np.maximum(customer, 0)], channel)
        pick = rng.random(n_s)
        sources = [
            ref.TRAFFIC[ref.CHANNELS[c]][int(u * len(ref.TRAFFIC[ref.CHANNELS[c]]))]
            for c, u in zip(channel, pick, strict=True)
        ]
        new_device = (customer < 0) | (rng.random(n_s) < 0.2)
        fresh_ids = [f"anon-{x:012x}" for x in rng.integers(0, 2**48, n_s)]
        anon_ids = np.where(new_device, fresh_ids, pop.anon_id[np.maximum(customer, 0)])
        return channel, sources, anon_ids

    def _logged_in(self, rng, ses: Sessions, ev: Events) -> np.ndarray:
        """Visitors are anonymous until they log in; carts and orders need a login."""
        n_s = len(ses.kind)
        never = ((ses.kind == BROWSE) & (rng.random(n_s) < 0.3)) | (ses.customer < 0)
        login_after = np.where(ses.kind == PURCHASE, 1, rng.integers(0, 3, n_s))
        after_login = (np.arange(len(ev.sess)) - ev.first) >= login_after[ev.sess]
        return (~never[ev.sess] & after_login) | ((ev.action >= CART) & (ses.customer[ev.sess] >= 0))

    def _emit(self, rng, day: int, ses: Sessions, ev: Events, orders: DayOrders) -> None:
        """The day's events as columns (numpy, no Python loop per event); a writer turns them into rows."""
        channel, sources, anon_ids = self._session_attributes(rng, ses, day)
        logged = self._logged_in(rng, ses, ev)
        uuids = _uuids(rng.bytes(16 * len(ev.sess)))
        date = self.cfg.day(day).strftime("%Y%m%d")
        occurrence = np.where(ev.action == VIEW, 1 + rng.poisson(0.25, len(ev.sess)), 1)
        sess, action, ordered = ev.sess, ev.action, ev.action == ORDER
        session_ids = np.strings.add(f"S{date}-".encode(), np.strings.zfill(np.arange(len(ses.kind)).astype("S"), 7))
        order = np.maximum(ses.order[sess], 0)
        tx_ids = np.array(orders.transaction_id or [""], dtype="S")
        events = {
            "activity_uuid": uuids,
            "session_id": session_ids[sess],
            "anonymous_id": anon_ids.astype("S")[sess],
            "entity_id": self.customer_ids[np.maximum(ses.customer[sess], 0)],
            "visit_start_ts": _iso_bytes(ses.start)[sess],
            "activity_ts": _iso_bytes(ev.ts),
            "event_action": np.array(ref.EVENT_ACTIONS, dtype="S")[action],
            "product_sku": self.skus[ev.product],
            "quantity": ev.qty,
            "order_value": np.append(orders.total, 0.0)[order],
            "transaction_id": tx_ids[order],
            "traffic_channel": np.array(ref.CHANNELS, dtype="S")[channel][sess],
            "traffic_source": np.array(sources, dtype="S")[sess],
            "occurrence": occurrence,
        }
        nulls = {"entity_id": ~logged, "product_sku": ev.product < 0, "quantity": action < CART,
                 "order_value": ~ordered, "transaction_id": ~ordered}  # fmt: skip
        self._queue(day, EventBatch(events, nulls, ev.ts))

    def _queue(self, day: int, batch: EventBatch) -> None:
        """Keep events after midnight (sessions that run past it) for the next day's files."""
        if self.spill is not None:
            batch = EventBatch.concat(self.spill, batch)
        order = np.argsort(batch.ts, kind="stable")  # the order the old per-row outbox gave
        batch = batch.take(order)
        cut = int(np.searchsorted(batch.ts, int(self.cfg.day_start(day + 1).astype("int64"))))
        self.today, self.spill = batch.slice(0, cut), batch.slice(cut, len(batch))

    def take(self, day: int) -> EventBatch:
        """The events whose time falls on `day` (called right after `day(day)`), sorted by time."""
        return self.today


def _iso_bytes(seconds: np.ndarray) -> np.ndarray:
    return np.strings.add(np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s").astype("S"), b"Z")


_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


def _uuids(raw: bytes) -> np.ndarray:
    """Version-4-style ids from 16 random bytes each: hex digits 12 and 16 set to '4' and 'a'."""
    b = np.frombuffer(raw, np.uint8).reshape(-1, 16)
    h = np.empty((len(b), 32), np.uint8)
    h[:, 0::2], h[:, 1::2] = _HEX[b >> 4], _HEX[b & 15]
    out = np.full((len(b), 36), ord("-"), np.uint8)
    out[:, 0:8], out[:, 9:13], out[:, 15:18], out[:, 20:23], out[:, 24:36] = (
        h[:, 0:8], h[:, 8:12], h[:, 13:16], h[:, 17:20], h[:, 20:32])  # fmt: skip
    out[:, 14], out[:, 19] = ord("4"), ord("a")
    return out.view("S36").ravel()


class EventBatch:
    """Web events as columns (the landing columns, in order; text as bytes), their nulls and epoch seconds.

    Small to hand to another process (arrays pickle as buffers). `json_lines` serialises all of them
    with numpy string operations, byte for byte what orjson makes of `row(i)`
    (tests/simulator/test_determinism.py holds the two together).
    """

    def __init__(self, columns: dict[str, np.ndarray], nulls: dict[str, np.ndarray], ts: np.ndarray) -> None:
        self.columns, self.nulls, self.ts = columns, nulls, ts

    def __len__(self) -> int:
        return len(self.ts)

    def _map(self, pick) -> EventBatch:
        return EventBatch({k: pick(v) for k, v in self.columns.items()}, {k: pick(v) for k, v in self.nulls.items()},
                          pick(self.ts))  # fmt: skip

    def take(self, index: np.ndarray) -> EventBatch:
        return self._map(lambda v: v[index])

    def slice(self, lo: int, hi: int) -> EventBatch:
        return self._map(lambda v: v[lo:hi])

    @staticmethod
    def concat(a: EventBatch, b: EventBatch) -> EventBatch:
        join = {k: np.concatenate([a.columns[k], b.columns[k]]) for k in b.columns}
        nulls = {k: np.concatenate([a.nulls[k], b.nulls[k]]) for k in b.nulls}
        return EventBatch(join, nulls, np.concatenate([a.ts, b.ts]))

    def row(self, i: int) -> dict:
        out = {}
        for k, v in self.columns.items():
            value = None if k in self.nulls and self.nulls[k][i] else v[i].item()
            out[k] = value.decode() if isinstance(value, bytes) else value
        return out

    def json_lines(self) -> list[bytes]:
        """One JSON object per event. Text needs no escaping: ids, timestamps and reference names only."""
        line = None
        for n, (k, v) in enumerate(self.columns.items()):
            text = np.strings.add(np.strings.add(b'"', v), b'"') if v.dtype.kind == "S" else v.astype("S")
            if k in self.nulls:
                text = np.where(self.nulls[k], b"null", text)
            part = np.strings.add(("{" if n == 0 else ",").encode() + f'"{k}":'.encode(), text)
            line = part if line is None else np.strings.add(line, part)
        return np.strings.add(line, b"}").tolist() if line is not None else []
