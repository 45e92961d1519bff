"""Customers: latent behavioural traits and their CRM record.

The traits follow the BG/NBD and Gamma-Gamma story: each customer buys at a
Gamma-distributed rate while alive and, after each purchase, drops out with a
Beta-distributed probability. Browsing, basket size, category taste, a style
(catalog.py), channel and cart abandonment are further traits. A few customers become expecting
parents mid-period and shift their demand to the baby category.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import reference as ref
from simulator.catalog import styles
from simulator.config import NEVER, STREAM_CHANNEL, STREAM_PEOPLE, STREAM_TASTE, GeneratorConfig

PRE_EXISTING_SHARE = 0.6  # customers already in the CRM when the period starts
ALIVE_AT_START = 0.8  # of those, the share who have not churned yet


@dataclass
class Population:
    n: int
    reg_day: np.ndarray  # registration day offset (negative: before the period)
    reg_second: np.ndarray  # second of the day the customer registered
    rate: np.ndarray  # purchases per day while alive
    p_drop: np.ndarray  # probability of churning after each purchase
    basket: np.ndarray  # mean extra items per order
    browse: np.ndarray  # sessions per day while alive
    abandon: np.ndarray  # probability a browsing session leaves a cart behind
    prefs: np.ndarray  # [n, categories] cumulative category preference
    style: np.ndarray  # the style whose products the customer favours (catalog.py)
    channel: np.ndarray  # preferred traffic channel index
    responsive: np.ndarray  # the channel whose visits most often end in an order (web.py)
    payment: np.ndarray  # preferred payment method index
    expecting_day: np.ndarray  # day the customer starts expecting a child (large if never)
    birth_day: np.ndarray  # day the child is born (large if never)
    move_day: np.ndarray  # day the customer moves (large if never)
    marry_day: np.ndarray  # day a single customer marries (large if never)
    # CRM attributes (mutable ones change over the period)
    first: np.ndarray
    last: np.ndarray
    gender: np.ndarray
    dob: np.ndarray  # datetime64[D]
    education: np.ndarray
    marital: np.ndarray
    children: np.ndarray
    occupation: np.ndarray
    hobbies: np.ndarray  # bitmask over HOBBIES
    income: np.ndarray
    loyalty: np.ndarray
    street_no: np.ndarray
    street: np.ndarray
    location: np.ndarray
    phone: np.ndarray  # int, 10 digits
    anon_id: np.ndarray  # str, the customer's browser id
    alive: np.ndarray  # bool, mutable
    churn_day: np.ndarray  # day the customer churned (-1 before the period, large if never)
    orders: np.ndarray  # counted purchases so far, mutable

    @property
    def customer_id(self) -> np.ndarray:
        return np.char.add("C", np.char.zfill(np.arange(1, self.n + 1).astype(str), 7))


def _life_events(cfg: GeneratorConfig, rng, age, marital) -> tuple[np.ndarray, ...]:
    n, days = cfg.customers, cfg.n_days
    eligible = (age >= 22) & (age <= 40)
    chance = np.where(marital == 1, 0.12, 0.03) * eligible
    expecting = rng.random(n) < chance
    expecting_day = np.where(expecting, rng.integers(0, max(1, days - 30), n), NEVER)
    birth_day = np.where(expecting, expecting_day + rng.integers(120, 250, n), NEVER)
    move_day = np.where(rng.random(n) < 0.12 * days / 365, rng.integers(0, days, n), NEVER)
    marry_day = np.where((marital == 0) & (rng.random(n) < 0.06 * days / 365), rng.integers(0, days, n), NEVER)
    return expecting_day, birth_day, move_day, marry_day


def build_population(cfg: GeneratorConfig) -> Population:
    n, rng = cfg.customers, cfg.rng(STREAM_PEOPLE)
    existing = rng.random(n) < PRE_EXISTING_SHARE
    reg_day = np.where(existing, -rng.integers(1, 1096, n), rng.integers(0, cfg.n_days, n))
    rate = rng.gamma(shape=2.0, scale=10.0 / 2.0, size=n) / 365.0
    prefs = rng.dirichlet(np.full(len(ref.CATEGORY_NAMES), 0.35), size=n) + np.array(ref.CATEGORY_WEIGHT) * 0.1
    prefs[:, ref.CATEGORY_NAMES.index(ref.BABY_CATEGORY)] *= 0.2
    prefs = np.cumsum(prefs / prefs.sum(axis=1, keepdims=True), axis=1)
    age = rng.triangular(18, 32, 82, n).astype(int)
    marital = rng.choice(4, size=n, p=[0.45, 0.42, 0.1, 0.03])
    alive = np.where(existing, rng.random(n) < ALIVE_AT_START, True)
    life = _life_events(cfg, rng, age, marital)
    dob = np.datetime64(cfg.start, "D") - (age * 365.25 + rng.integers(0, 365, n)).astype("timedelta64[D]")
    return Population(
        n=n,
        reg_day=reg_day,
        reg_second=rng.integers(6 * 3600, 23 * 3600, n),
        rate=rate,
        p_drop=rng.beta(1.2, 7.0, n),
        basket=rng.gamma(2.0, 0.6, n),
        browse=0.01 + 1.5 * rate + rng.gamma(1.0, 0.01, n),
        abandon=rng.beta(1.5, 6.0, n),
        prefs=prefs,
        style=cfg.rng(STREAM_TASTE, 1).integers(0, styles(cfg.n_products), n),  # its own stream, as the catalogue's
        channel=rng.choice(len(ref.CHANNELS), size=n, p=ref.CHANNEL_WEIGHT),
        responsive=cfg.rng(STREAM_CHANNEL, 1).integers(0, len(ref.CHANNELS), n),  # its own stream, as styles
        payment=rng.choice(len(ref.PAYMENT_METHODS), size=n, p=ref.PAYMENT_WEIGHT),
        expecting_day=life[0],
        birth_day=life[1],
        move_day=life[2],
        marry_day=life[3],
        first=rng.integers(0, len(ref.FIRST_NAMES), n),
        last=rng.integers(0, len(ref.LAST_NAMES), n),
        gender=rng.choice(len(ref.GENDERS), size=n, p=ref.GENDER_WEIGHT),
        dob=dob,
        education=rng.choice(len(ref.EDUCATION_LEVELS), size=n, p=ref.EDUCATION_WEIGHT),
        marital=marital,
        children=np.where(marital == 0, rng.poisson(0.2, n), rng.poisson(1.3, n)),
        occupation=rng.integers(0, len(ref.OCCUPATIONS), n),
        hobbies=rng.integers(1, 2 ** len(ref.HOBBIES), n) & rng.integers(1, 2 ** len(ref.HOBBIES), n),
        income=(rng.lognormal(np.log(55_000), 0.5, n) // 100 * 100).astype(int),
        loyalty=np.where(existing, rng.integers(1, 4, n), 1),
        street_no=rng.integers(1, 9999, n),
        street=rng.integers(0, len(ref.STREETS), n),
        location=rng.integers(0, len(ref.LOCATIONS), n),
        phone=rng.integers(2_000_000_000, 9_999_999_999, n),
        anon_id=np.array([f"anon-{x:012x}" for x in rng.integers(0, 2**48, n)]),
        alive=alive,
        churn_day=np.where(alive, NEVER, -1),
        orders=np.zeros(n, dtype=int),
    )


def address(pop: Population, i: int) -> str:
    city, state, zip_prefix = ref.LOCATIONS[pop.location[i]]
    return f"{pop.street_no[i]} {ref.STREETS[pop.street[i]]}, {city}, {state} {zip_prefix}{pop.street_no[i] % 100:02d}"


def customer_rows(pop: Population, cfg: GeneratorConfig, idx: np.ndarray, updated_at: list[str]) -> list[dict]:
    """CRM records of customers `idx`, as of now. Columns are gathered once, not indexed row by row."""
    reg = cfg.day_start(0) + (pop.reg_day[idx] * 86400 + pop.reg_second[idx]).astype("timedelta64[s]")
    cols = {
        name: getattr(pop, name)[idx].tolist()
        for name in ("first", "last", "gender", "education", "marital", "children", "occupation", "hobbies",
                     "income", "loyalty", "street_no", "street", "location", "phone")
    }  # fmt: skip
    dob, reg_iso = np.datetime_as_string(pop.dob[idx]).tolist(), np.datetime_as_string(reg, unit="s").tolist()
    hobby_names = [";".join(h for b, h in enumerate(ref.HOBBIES) if m >> b & 1) for m in range(2 ** len(ref.HOBBIES))]
    rows = []
    for k, i in enumerate(idx.tolist()):
        city, state, zip_prefix = ref.LOCATIONS[cols["location"][k]]
        first, last = ref.FIRST_NAMES[cols["first"][k]], ref.LAST_NAMES[cols["last"][k]]
        phone, street_no = f"{cols['phone'][k]:010d}", cols["street_no"][k]
        rows.append({
            "customer_id": f"C{i + 1:07d}",
            "first_name": first,
            "last_name": last,
            "gender": ref.GENDERS[cols["gender"][k]],
            "phone_number": f"+1-{phone[:3]}-{phone[3:6]}-{phone[6:]}",
            "email_address": f"{first.lower()}.{last.lower()}{i + 1}@example.com",
            "date_of_birth": dob[k],
            "education_level": ref.EDUCATION_LEVELS[cols["education"][k]],
            "marital_status": ref.MARITAL_STATUSES[cols["marital"][k]],
            "number_of_children": cols["children"][k],
            "registration_date": f"{reg_iso[k]}Z",
            "occupation": ref.OCCUPATIONS[cols["occupation"][k]],
            "hobbies": hobby_names[cols["hobbies"][k]],
            "annual_income": cols["income"][k],
            "degree_of_loyalty": cols["loyalty"][k],
            "mailing_street": f"{street_no} {ref.STREETS[cols['street'][k]]}",
            "city": city,
            "state": state,
            "country": ref.COUNTRY,
            "zipcode": f"{zip_prefix}{street_no % 100:02d}",
            "updated_at": updated_at[k],
        })  # fmt: skip
    return rows
