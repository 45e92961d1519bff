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
from simulator.config import STREAM_WEB, GeneratorConfig, iso
from simulator.population import Population
from simulator.shop import DayOrders, Outbox, Shop, season, time_of_day

BROWSE, INTENT, PURCHASE, ANONYMOUS = range(4)
PV, VIEW, FAV, CART, REMOVE, ORDER = range(6)
CHURNED_BROWSE_FACTOR = 0.08
ANON_SESSIONS_PER_CUSTOMER_DAY = 0.01


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
        self.events = Outbox(cfg)

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
        ev.product[free_view] = self.shop.pick_products(rng, day, who)
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

    def _session_attributes(self, rng, ses: Sessions) -> tuple[np.ndarray, list[str], np.ndarray]:
        n_s, customer, pop = len(ses.kind), ses.customer, self.pop
        loyal = (customer >= 0) & (rng.random(n_s) < 0.7)
        random_channel = rng.choice(len(ref.CHANNELS), n_s, p=ref.CHANNEL_WEIGHT)
        channel = np.where(loyal, pop.channel[np.maximum(customer, 0)], random_channel)
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
        channel, sources, anon_ids = self._session_attributes(rng, ses)
        logged = self._logged_in(rng, ses, ev)
        uuids = rng.bytes(16 * len(ev.sess)).hex()
        date = self.cfg.day(day).strftime("%Y%m%d")
        ts_iso, start_iso = iso(ev.ts.astype("datetime64[s]")), iso(ses.start.astype("datetime64[s]"))
        occurrence = np.where(ev.action == VIEW, 1 + rng.poisson(0.25, len(ev.sess)), 1)
        for e in range(len(ev.sess)):
            s, a, c, p = ev.sess[e], ev.action[e], ses.customer[ev.sess[e]], ev.product[e]
            o = ses.order[s]
            u = uuids[32 * e : 32 * e + 32]
            self.events.put({
                "activity_uuid": f"{u[:8]}-{u[8:12]}-4{u[13:16]}-a{u[17:20]}-{u[20:]}",
                "session_id": f"S{date}-{s:07d}",
                "anonymous_id": anon_ids[s],
                "entity_id": f"C{c + 1:07d}" if logged[e] else None,
                "visit_start_ts": start_iso[s],
                "activity_ts": ts_iso[e],
                "event_action": ref.EVENT_ACTIONS[a],
                "product_sku": str(self.cat.sku_id[p]) if p >= 0 else None,
                "quantity": int(ev.qty[e]) if a in (CART, REMOVE, ORDER) else None,
                "order_value": float(orders.total[o]) if a == ORDER else None,
                "transaction_id": orders.transaction_id[o] if a == ORDER else None,
                "traffic_channel": ref.CHANNELS[channel[s]],
                "traffic_source": sources[s],
                "occurrence": int(occurrence[e]),
                "_t": int(ev.ts[e]),
            })  # fmt: skip
