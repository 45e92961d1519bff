"""Brands and products, with prices that change week by week.

Products are ranked by popularity within their category (a Zipf-like long
tail); a share launch during the simulated period and only become orderable
once a weekly catalogue file has published them, and a few are discontinued:
from the first weekly file without them on, they can no longer be viewed or
ordered (the file is the whole catalogue, so "no longer listed" is the
signal). Each product belongs to one style, a group of about STYLE_SIZE
products across categories that the same customers like (population.py), so that what a customer views and buys says
something about what they will buy next: the signal a recommender learns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import reference as ref
from simulator.config import NEVER, STREAM_CATALOG, STREAM_PRICES, STREAM_RETIRED, STREAM_TASTE, GeneratorConfig

PRICE_CHANGE_WEEKLY = 0.02  # share of products whose list price moves each week
PROMO_WEEKLY = 0.15  # share of products on sale in a given week
STYLE_SIZE = 40  # products per style, on average
RETIRED_YEARLY = 0.05  # share of the products on sale at the start that are discontinued in a year


def styles(n_products: int) -> int:
    """How many styles a catalogue of `n_products` has."""
    return max(4, n_products // STYLE_SIZE)


@dataclass
class Catalog:
    brand_rows: list[dict]
    product_id: np.ndarray  # str
    sku_id: np.ndarray  # str
    category: np.ndarray  # int index into CATEGORY_NAMES
    launched_day: np.ndarray  # int day offset from start (negative: before the period)
    retired_day: np.ndarray  # int day from which the product is no longer listed (large if never)
    popularity: np.ndarray  # float weight within category
    style: np.ndarray  # int, the product's style (0 .. styles(n) - 1)
    static_rows: list[dict]  # product attributes that never change
    list_price: np.ndarray  # [week, product]
    sale_price: np.ndarray  # [week, product]

    def week_of(self, day: int) -> int:
        return day // 7

    def orderable(self, day: int) -> np.ndarray:
        """Products published in the catalogue file of the current week."""
        return self.listed(self.week_of(day) * 7)

    def listed(self, day: int) -> np.ndarray:
        """Products a catalogue file of `day` lists: launched, and not discontinued."""
        return (self.launched_day <= day) & (self.retired_day > day)


def _brand_name(rng: np.random.Generator, taken: set[str]) -> str:
    while True:
        parts = rng.choice(ref.BRAND_SYLLABLES, size=rng.integers(2, 4))
        name = "".join(parts).capitalize()
        if name not in taken:
            taken.add(name)
            return name


def _brands(cfg: GeneratorConfig, rng: np.random.Generator) -> tuple[list[dict], np.ndarray]:
    rows, taken = [], set()
    home_category = rng.integers(0, len(ref.CATEGORY_NAMES), size=cfg.n_brands)
    for i in range(cfg.n_brands):
        name = _brand_name(rng, taken)
        brand_type = ref.BRAND_TYPES[rng.integers(len(ref.BRAND_TYPES))]
        category = ref.CATEGORY_NAMES[home_category[i]]
        city, state, _ = ref.LOCATIONS[rng.integers(len(ref.LOCATIONS))]
        rows.append(
            {
                "brand_id": f"B{i + 1:04d}",
                "brand_name": name,
                "parent_company": ref.PARENT_COMPANIES[rng.integers(len(ref.PARENT_COMPANIES))],
                "description": f"{name} is a {brand_type.lower()} brand of {category.lower()} products.",
                "brand_type": brand_type,
                "website": f"https://www.{name.lower()}.example.com",
                "founded_year": str(int(rng.integers(1905, 2021))),
                "headquarters": f"{city}, {state}, {ref.COUNTRY}",
            }
        )
    return rows, home_category


def _product_rows(cfg, rng, category, brand_idx, brand_rows) -> list[dict]:
    subcats = [rng.integers(len(ref.CATEGORIES[ref.CATEGORY_NAMES[c]])) for c in category]
    colours = rng.integers(len(ref.COLOURS), size=len(category))
    sizes = rng.integers(len(ref.SIZES), size=len(category))
    adjectives = rng.integers(len(ref.ADJECTIVES), size=len(category))
    rows = []
    for i, c in enumerate(category):
        cat = ref.CATEGORY_NAMES[c]
        sub = ref.CATEGORIES[cat][subcats[i]]
        rows.append(
            {
                "sku_id": f"SKU{i + 1:06d}",
                "product_id": f"P{i + 1:06d}",
                "product_name": f"{brand_rows[brand_idx[i]]['brand_name']} {ref.ADJECTIVES[adjectives[i]]} {sub}",
                "product_category": cat,
                "product_subcategory": sub,
                "brand_id": brand_rows[brand_idx[i]]["brand_id"],
                "product_colour": ref.COLOURS[colours[i]],
                "product_size": ref.SIZES[sizes[i]],
            }
        )
    return rows


def _prices(cfg: GeneratorConfig, category: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n_weeks = cfg.n_days // 7 + 1
    rng = cfg.rng(STREAM_PRICES)
    median = np.array([ref.CATEGORY_PRICE[ref.CATEGORY_NAMES[c]] for c in category], dtype=float)
    current = np.round(np.round(median * rng.lognormal(0.0, 0.5, size=len(category))) + 0.99, 2)
    list_price = np.empty((n_weeks, len(category)))
    sale_price = np.empty_like(list_price)
    for week in range(n_weeks):
        moves = rng.random(len(category)) < PRICE_CHANGE_WEEKLY
        current = np.where(moves, np.round(current * rng.uniform(0.92, 1.15, len(category)), 2), current)
        promo = rng.random(len(category)) < PROMO_WEEKLY
        discount = rng.choice([0.1, 0.15, 0.2, 0.3], size=len(category))
        list_price[week] = current
        sale_price[week] = np.where(promo, np.round(current * (1 - discount), 2), current)
    return np.round(list_price, 2), np.round(sale_price, 2)


def build_catalog(cfg: GeneratorConfig) -> Catalog:
    rng = cfg.rng(STREAM_CATALOG)
    brand_rows, home_category = _brands(cfg, rng)
    n = cfg.n_products
    category = rng.choice(len(ref.CATEGORY_NAMES), size=n, p=np.array(ref.CATEGORY_WEIGHT) / sum(ref.CATEGORY_WEIGHT))
    # Brands mostly sell in their home category.
    brand_idx = np.empty(n, dtype=int)
    for c in range(len(ref.CATEGORY_NAMES)):
        mask = category == c
        own = np.flatnonzero(home_category == c)
        pool = own if len(own) else np.arange(cfg.n_brands)
        brand_idx[mask] = rng.choice(pool, size=mask.sum())
    launched_new = rng.random(n) < 0.1
    launched_day = np.where(launched_new, rng.integers(1, max(2, cfg.n_days), size=n), -rng.integers(30, 1500, size=n))
    popularity = 1.0 / (1.0 + rng.permutation(n)) ** 0.8  # Zipf-like long tail
    static_rows = _product_rows(cfg, rng, category, brand_idx, brand_rows)
    list_price, sale_price = _prices(cfg, category)
    retired_day = _retirements(cfg, category, launched_day)
    return Catalog(
        brand_rows=brand_rows,
        product_id=np.array([r["product_id"] for r in static_rows]),
        sku_id=np.array([r["sku_id"] for r in static_rows]),
        category=category,
        launched_day=launched_day,
        retired_day=retired_day,
        popularity=popularity,
        # its own stream: the styles leave every other draw of the catalogue as it was
        style=cfg.rng(STREAM_TASTE, 0).integers(0, styles(n), n),
        static_rows=static_rows,
        list_price=list_price,
        sale_price=sale_price,
    )


def _retirements(cfg: GeneratorConfig, category: np.ndarray, launched_day: np.ndarray) -> np.ndarray:
    """The day each product is discontinued (NEVER for most): RETIRED_YEARLY of those on sale at the start,
    a year pro rata, on a day of the period, never the first-launched of its category (so that every
    category keeps a product to sell). Drawn from a stream of its own, so that every other draw of the
    catalogue is as without it."""
    rng = cfg.rng(STREAM_RETIRED)
    first = [np.flatnonzero(category == c)[np.argmin(launched_day[category == c])] for c in np.unique(category)]
    draw = rng.random(len(category)) < RETIRED_YEARLY * cfg.n_days / 365
    day = rng.integers(1, max(2, cfg.n_days), len(category))
    retire = draw & (launched_day < 0)
    retire[first] = False
    return np.where(retire, day, NEVER)


def product_snapshot(cat: Catalog, cfg: GeneratorConfig, day: int) -> list[dict]:
    """The weekly catalogue file: every published product with this week's prices."""
    week = cat.week_of(day)
    start = cfg.day_start(0)
    rows = []
    for i in np.flatnonzero(cat.listed(day)):
        launched = start + np.timedelta64(int(cat.launched_day[i]) * 86400 + 36000, "s")
        rows.append(
            {
                **cat.static_rows[i],
                "list_price": float(cat.list_price[week, i]),
                "sale_price": float(cat.sale_price[week, i]),
                "launched_ts": f"{launched}Z",
            }
        )
    return rows
