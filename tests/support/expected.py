"""Figures computed straight from the landing files, independently of the loaders and dbt."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

from tests.support.readers import all_records, files, read_records

CENT = Decimal("0.01")


def _ts(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")


def latest(landing: Path, source: str, key: str) -> dict[str, dict]:
    """The newest version (by updated_at) of every record of a versioned source, by its key."""
    found: dict[str, dict] = {}
    for r in all_records(landing, source):
        if r[key] not in found or r["updated_at"] > found[r[key]]["updated_at"]:
            found[r[key]] = r
    return found


def latest_orders(landing: Path) -> dict[str, dict]:
    return latest(landing, "orders", "order_id")


def money(value: float | str) -> Decimal:
    """An amount as the landing file writes it, exactly (at most two decimals, CONTRACT.md)."""
    return Decimal(str(value)).quantize(CENT)


def customer_orders(landing: Path, as_of: dt.date) -> dict[str, dict]:
    """Counted orders per customer; totals summed exactly, as decimals."""
    out: dict[str, dict] = {}
    for o in latest_orders(landing).values():
        if o["order_status"] in ("Canceled", "Returned"):
            continue
        empty = {"orders_count": 0, "total_order_value": Decimal(0), "first_order_at": None, "last_order_at": None}
        c = out.setdefault(o["customer_id"], empty)
        c["orders_count"] += 1
        c["total_order_value"] += money(o["total_amount"])
        at = _ts(o["order_date"])
        c["first_order_at"] = min(c["first_order_at"] or at, at)
        c["last_order_at"] = max(c["last_order_at"] or at, at)
    for c in out.values():
        c["recency_days"] = (as_of - c["last_order_at"].date()).days
    return out


def cume_dist_scores(values: dict[str, float], descending: bool) -> dict[str, int]:
    """ceil(5 * cume_dist()): the share of customers ordered at or before each value, ties together."""
    n = len(values)
    return {
        k: math.ceil(5 * sum(1 for w in values.values() if (w >= v if descending else w <= v)) / n)
        for k, v in values.items()
    }


def rfm(landing: Path, as_of: dt.date) -> dict[str, tuple[int, int, int]]:
    orders = customer_orders(landing, as_of)
    r = cume_dist_scores({k: v["recency_days"] for k, v in orders.items()}, descending=True)
    f = cume_dist_scores({k: v["orders_count"] for k, v in orders.items()}, descending=False)
    m = cume_dist_scores({k: v["total_order_value"] for k, v in orders.items()}, descending=False)
    return {k: (r[k], f[k], m[k]) for k in orders}


def segment(r: int | None, f: int | None, m: int | None) -> str:
    """The RFM segment of three scores, by docs/metrics.md's table: the first rule that matches."""
    if r is None:
        return "Prospect"
    rules = [
        ("Champions", r >= 4 and f >= 4 and m >= 4),
        ("Loyal Customers", r >= 3 and f >= 4),
        ("New Customers", r >= 4 and f <= 2),
        ("Potential Loyalists", r >= 3 and f >= 2),
        ("Cannot Lose Them", r <= 2 and f >= 4),
        ("At Risk", r <= 2 and f >= 2),
    ]
    return next((name for name, holds in rules if holds), "Hibernating")


def event_counts(landing: Path) -> dict[str, Counter]:
    """Events per customer; a session belongs to the customer who logged in during it."""
    events = all_records(landing, "web_events")
    owner = {e["session_id"]: e["entity_id"] for e in events if e["entity_id"]}
    counts: dict[str, Counter] = defaultdict(Counter)
    for e in events:
        if e["session_id"] in owner:
            counts[owner[e["session_id"]]][e["event_action"]] += 1
    return counts


# -- web: sessions, the Lens activity streams, and each customer's web figures --------------------------------

ACTIONS = {"product_views": "product_view", "favorites": "add_to_favorite", "cart_adds": "add_to_cart",
           "orders_placed": "order_placed"}  # fmt: skip


_read: dict[tuple, list[dict]] = {}  # the events of a landing zone as its files were: read once per version


def web_events(landing: Path) -> list[dict]:
    """Every event once: a redelivered activity_uuid counts in the first file (by path) that brought it.

    Several tests read the same landing zone's events: they are parsed once for as long as no web file of it
    changes (the key is every file's path, size and modification time)."""
    paths = files(landing, "web_events")
    key = (str(landing), tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in paths))
    if key not in _read:
        seen, out = set(), []
        for e in all_records(landing, "web_events"):
            if e["activity_uuid"] not in seen:
                seen.add(e["activity_uuid"])
                out.append(e)
        _read.clear()  # one landing zone's events at a time (the ML one holds a million)
        _read[key] = out
    return _read[key]


def sessions(landing: Path) -> dict[str, dict]:
    """One row per session_id, by the documented rule: the session belongs to the customer who logged in
    during it; engagement runs from its first visit start to its last event."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for e in web_events(landing):
        grouped[e["session_id"]].append(e)
    out = {}
    for sid, events in grouped.items():
        actions = Counter(e["event_action"] for e in events)
        placed = {e["transaction_id"] for e in events if e["event_action"] == "order_placed" and e["transaction_id"]}
        started, ended = min(_ts(e["visit_start_ts"]) for e in events), max(_ts(e["activity_ts"]) for e in events)
        owners = {e["entity_id"] for e in events if e["entity_id"]}
        assert len(owners) <= 1, f"session {sid} has several customers: {owners}"
        out[sid] = {
            "customer_id": next(iter(owners), None), "anonymous_id": min(e["anonymous_id"] for e in events),
            "traffic_channel": min(e["traffic_channel"] for e in events),
            "traffic_source": min(e["traffic_source"] for e in events), "events_count": len(events),
            "page_views_count": actions["page_view"], "product_views_count": actions["product_view"],
            "favorites_count": actions["add_to_favorite"], "cart_adds_count": actions["add_to_cart"],
            "cart_removes_count": actions["remove_from_cart"], "orders_placed_count": len(placed),
            "engagement_minutes": (ended - started).total_seconds() / 60, "is_bounce": len(events) == 1,
            "is_cart_abandoned": actions["add_to_cart"] > 0 and not placed,
            "session_started_at": started, "session_ended_at": ended,
        }  # fmt: skip
    return out


def customer_web(landing: Path, as_of: dt.date) -> dict[str, dict]:
    """Each customer's web figures over the sessions attributed to them (CONTRACT.md, docs/metrics.md)."""
    mine: dict[str, list[dict]] = defaultdict(list)
    for s in sessions(landing).values():
        if s["customer_id"]:
            mine[s["customer_id"]].append(s)
    out = {}
    for customer, own in mine.items():
        with_cart = [s for s in own if s["cart_adds_count"] > 0]
        channels = Counter(s["traffic_channel"] for s in own)
        out[customer] = {
            "sessions_count": len(own),
            "product_views_count": sum(s["product_views_count"] for s in own),
            "favorites_count": sum(s["favorites_count"] for s in own),
            "cart_adds_count": sum(s["cart_adds_count"] for s in own),
            "cart_abandonment_rate": (sum(s["is_cart_abandoned"] for s in with_cart) / len(with_cart)
                                      if with_cart else None),
            "engagement_minutes": sum(s["engagement_minutes"] for s in own),
            "days_since_last_activity": (as_of - max(s["session_ended_at"] for s in own).date()).days,
            "preferred_channel": min(channels, key=lambda c: (-channels[c], c)),
        }  # fmt: skip
    return out


def _snapshot_date(rel: str) -> dt.date:
    return dt.date.fromisoformat(rel.split("products_")[1][:10])


class Catalog:
    """The products as each weekly snapshot showed them (the first record of a product in a file), and the
    brands as their latest file shows them: a product at a moment is the latest snapshot dated on or before
    that day, or the first snapshot for a moment before it."""

    def __init__(self, landing: Path) -> None:
        self.snapshots: dict[str, list[tuple[dt.date, dict]]] = defaultdict(list)  # product_id -> versions
        self.by_sku: dict[str, str] = {}
        for path in files(landing, "products"):
            day, seen = _snapshot_date(path.name), set()
            for _, record in read_records(path, "products"):
                if record["product_id"] in seen:
                    continue
                seen.add(record["product_id"])
                self.snapshots[record["product_id"]].append((day, record))
                self.by_sku[record["sku_id"]] = record["product_id"]
        self.brands: dict[str, dict] = {}
        for path in reversed(files(landing, "brands")):  # the latest file wins
            for _, record in read_records(path, "brands"):
                self.brands.setdefault(record["brand_id"], record)

    def product(self, product_id: str | None, at: dt.datetime) -> dict | None:
        versions = sorted(self.snapshots.get(product_id or "", []), key=lambda v: v[0])
        if not versions:
            return None
        shown = [r for day, r in versions if day <= at.date()]
        return shown[-1] if shown else versions[0][1]

    def sku(self, sku_id: str | None, at: dt.datetime) -> dict | None:
        return self.product(self.by_sku.get(sku_id or ""), at)

    def brand(self, product: dict | None) -> dict:
        return self.brands.get(product["brand_id"], {}) if product else {}


def streams(landing: Path, known: dict[str, dict] | None = None) -> dict[str, dict[str, dict]]:
    """The four Lens activity streams: {mart: {activity_uuid: row}}, each event with its session's customer
    and the product and brand as they were when it happened (`known`: the sessions, if computed already)."""
    known = sessions(landing) if known is None else known
    catalog, owner = Catalog(landing), {sid: s["customer_id"] for sid, s in known.items()}
    out: dict[str, dict[str, dict]] = {mart: {} for mart in ACTIONS}
    action_mart = {a: m for m, a in ACTIONS.items()}
    for e in web_events(landing):
        mart = action_mart.get(e["event_action"])
        if mart is None:
            continue
        at = _ts(e["activity_ts"])
        product = catalog.sku(e["product_sku"], at)
        brand = catalog.brand(product)
        out[mart][e["activity_uuid"]] = {
            "session_id": e["session_id"], "entity_id": owner[e["session_id"]], "product_sku": e["product_sku"],
            "transaction_id": e["transaction_id"], "product_name": (product or {}).get("product_name"),
            "category_name": (product or {}).get("product_category"),
            "subcategory_name": (product or {}).get("product_subcategory"), "brand_name": brand.get("brand_name"),
            "parent_company": brand.get("parent_company"), "event_action": e["event_action"],
            "traffic_channel": e["traffic_channel"], "traffic_source": e["traffic_source"],
            "product_price": money(product["sale_price"]) if product else None, "quantity": e["quantity"],
            "order_value": money(e["order_value"]) if e["order_value"] is not None else None,
            "occurrence": e["occurrence"], "visit_start_ts": _ts(e["visit_start_ts"]), "activity_ts": at,
        }  # fmt: skip
    return out


def preferences(landing: Path) -> dict[str, tuple[str | None, str | None]]:
    """(category, brand) each customer spent most on over the lines of counted orders, each line at its
    product's version when ordered; ties go to the first name."""
    catalog, orders = Catalog(landing), latest_orders(landing)
    lines, seen = [], set()
    for line in all_records(landing, "order_line_items"):  # a re-delivered line keeps its first load
        if line["order_li_id"] not in seen:
            seen.add(line["order_li_id"])
            lines.append(line)
    spent: dict[str, dict[str, Counter]] = defaultdict(lambda: {"category": Counter(), "brand": Counter()})
    for line in lines:
        order = orders.get(line["order_id"])
        if order is None or order["order_status"] in ("Canceled", "Returned"):
            continue
        product = catalog.product(line["product_id"], _ts(order["order_date"]))
        amount = line["qty"] * money(line["unit_price"])
        spent[order["customer_id"]]["category"][(product or {}).get("product_category")] += amount
        spent[order["customer_id"]]["brand"][catalog.brand(product).get("brand_name")] += amount

    def top(counter: Counter) -> str | None:
        return min(counter, key=lambda k: (-counter[k], k is None, k or ""))

    return {c: (top(s["category"]), top(s["brand"])) for c, s in spent.items()}


def age(born: dt.date, on: dt.date) -> int:
    """Whole years of age on a day: the birthday of that year counts once reached."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# -- audiences (dbt_project/audiences.yml), each rule computed from the files --------------------------------


def _within(day: dt.date, as_of: dt.date, days: int) -> bool:
    return as_of - dt.timedelta(days=days) < day <= as_of


def baby_shift(events: list[tuple[dt.datetime, str | None, str | None]]) -> float:
    """The CUSUM of product interest turning to Baby & Maternity (audiences.yml). Each (product, day) counts
    once, at its first moment, with its category (the least one named); in time order (then category, missing
    last), + ln(0.6 / 0.05) for a baby interest and ln(0.4 / 0.95) for another; its value at the end."""
    first: dict[tuple, tuple[dt.datetime, str | None]] = {}
    for at, category, product in events:
        key = (product, at.date())
        when, named = first.get(key, (at, category))
        names = [c for c in (named, category) if c is not None]
        first[key] = (min(when, at), min(names) if names else None)
    total = low = 0.0
    for _, category in sorted(first.values(), key=lambda e: (e[0], e[1] is None, e[1] or "")):
        total += math.log(0.6 / 0.05) if category == "Baby & Maternity" else math.log(0.4 / 0.95)
        low = min(low, total)
    return total - low


def audiences(landing: Path, as_of: dt.date) -> dict[str, set[str]]:
    """The members of each audience by its rule in audiences.yml, from the landing files."""
    orders, crm = latest_orders(landing), latest(landing, "customers", "customer_id")
    counted = [o for o in orders.values() if o["order_status"] not in ("Canceled", "Returned")]
    totals = {c: v["total_order_value"] for c, v in customer_orders(landing, as_of).items() if c in crm}
    ranked = sorted(totals.values())
    spend = {c: ranked.index(v) / (len(ranked) - 1) for c, v in totals.items()}  # percent_rank: (rank - 1)/(n - 1)
    recent = Counter(o["customer_id"] for o in counted if _within(_ts(o["order_date"]).date(), as_of, 90))
    known = sessions(landing)
    abandoned = Counter(s["customer_id"] for s in known.values()
                        if s["customer_id"] and s["is_cart_abandoned"]
                        and _within(s["session_started_at"].date(), as_of, 90))  # fmt: skip
    interest: dict[str, list] = defaultdict(list)  # customer -> [(when, category, product sku)] in 180 days
    activity = streams(landing, known)
    for mart in ("product_views", "favorites", "cart_adds"):
        for row in activity[mart].values():
            if row["entity_id"] and _within(row["activity_ts"].date(), as_of, 180):
                interest[row["entity_id"]].append((row["activity_ts"], row["category_name"], row["product_sku"]))
    catalog, seen = Catalog(landing), set()
    for line in all_records(landing, "order_line_items"):  # every line of every order, as orders_enriched
        order = orders.get(line["order_id"])
        if line["order_li_id"] in seen or order is None:
            continue
        seen.add(line["order_li_id"])
        at = _ts(order["order_date"])
        if order["customer_id"] and _within(at.date(), as_of, 180):
            product = catalog.product(line["product_id"], at) or {}
            interest[order["customer_id"]].append((at, product.get("product_category"), product.get("sku_id")))
    scores = rfm(landing, as_of)
    out = {
        "High Spending Customers": {c for c, p in spend.items() if p >= 0.9},
        "Expecting Parents": {c for c, events in interest.items() if c in crm and baby_shift(events) >= 3.5
                              and crm[c]["date_of_birth"]
                              and 18 <= age(dt.date.fromisoformat(crm[c]["date_of_birth"]), as_of) <= 45},
        "Frequent Cart Abandoners": {c for c, n in abandoned.items() if c in crm and n >= 3},
        "Frequent Buyers": {c for c, n in recent.items() if c in crm and n >= 3},
    }  # fmt: skip
    for customer in crm:
        out.setdefault(f"RFM: {segment(*scores.get(customer, (None, None, None)))}", set()).add(customer)
    return out
