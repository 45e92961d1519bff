"""Planted data defects and their manifest.

Each record draws one uniform number; it gets at most one defect kind, so a
test can check every manifest entry against the file without ambiguity.
Every planted defect is written to the manifest with its file and line.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import orjson

from simulator import reference as ref

# Per source: (kind, column) pairs planted per record at write time.
KINDS: dict[str, list[tuple[str, str | None]]] = {
    "customers": [
        ("missing_email", "email_address"),
        ("missing_phone", "phone_number"),
        ("impossible_birth_date", "date_of_birth"),
        ("unknown_enum", "gender"),
    ],
    "products": [
        ("duplicate_product_id", "product_id"),
        ("missing_description", "product_name"),
        ("mismatched_category", "product_subcategory"),
    ],
    "brands": [
        ("unknown_enum", "brand_type"),
        ("duplicate_brand_id", "brand_id"),
        ("mismatched_description", "description"),
    ],
    "orders": [
        ("malformed_line", None),
        ("unknown_enum", "order_status"),
        ("unknown_enum", "payment_method"),
        ("late_delivery", "order_delivery_date"),
    ],
    "order_line_items": [("malformed_line", None)],
    "transactions": [
        ("negative_amount", "amount"),
        ("mismatched_amount", "amount"),
        ("unknown_enum", "payment_method"),
        ("late_payment", "transaction_ts"),
    ],
    "web_events": [
        ("malformed_line", None),
        ("unknown_enum", "event_action"),
        ("missing_visit_start", "visit_start_ts"),
        ("page_view_burst", "session_id"),
    ],
}
DUPLICATES = {"duplicate_product_id", "duplicate_brand_id"}  # a second record appended after the original
BURST_COPIES = 30  # page views added to a session: far past the IQR fence of a few page views per session
# Values outside the accepted sets, as sloppy upstream systems produce them.
BAD_ENUMS = {
    "gender": ["F", "M", "unknown"],
    "order_status": ["Pending", "On Hold"],
    "event_action": ["click", "scroll"],
    "payment_method": ["Crypto", "Cheque"],
    "brand_type": ["Unknown", "Generic"],
}
# All kinds the simulator can plant, including those planted outside KINDS.
ALL_KINDS = sorted(
    {k for kinds in KINDS.values() for k, _ in kinds} | {"unknown_customer", "late_file", "bounce_spike"}
)


def _iso(value: str, days: int) -> str:
    """An ISO time in UTC (2026-01-01T22:30:46Z) moved by whole days."""
    moved = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ") + dt.timedelta(days=days)
    return moved.strftime("%Y-%m-%dT%H:%M:%SZ")


def _blank(column: str, row: dict, rng: np.random.Generator) -> bool:
    row[column] = "" if column != "visit_start_ts" else None
    return True


def _impossible_birth_date(column: str, row: dict, rng: np.random.Generator) -> bool:
    future = rng.random() < 0.5
    year = int(rng.integers(2090, 2100)) if future else int(rng.integers(1800, 1880))
    row[column] = f"{year}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
    return True


def _unknown_enum(column: str, row: dict, rng: np.random.Generator) -> bool:
    row[column] = str(rng.choice(BAD_ENUMS[column]))
    return True


def _payment(kind: str):
    def mutate(column: str, row: dict, rng: np.random.Generator) -> bool:
        if row["amount"] <= 0:  # refunds are negative by design; only payments get these
            return False
        if kind == "negative_amount":
            row["amount"] = -row["amount"]
        elif kind == "mismatched_amount":
            row["amount"] = round(row["amount"] + float(rng.choice([-1, 1])) * round(rng.uniform(1, 25), 2), 2)
        else:  # paid days after checkout: past the processing time of a day
            row["transaction_ts"] = _iso(row["transaction_ts"], int(rng.integers(2, 6)))
        return True

    return mutate


def _other_category(column: str, row: dict, rng: np.random.Generator) -> bool:
    others = [c for c in ref.CATEGORY_NAMES if c != row["product_category"]]
    other = others[int(rng.integers(len(others)))]
    row[column] = ref.CATEGORIES[other][int(rng.integers(len(ref.CATEGORIES[other])))]
    return True


def _other_brand_type(column: str, row: dict, rng: np.random.Generator) -> bool:
    said = f"is a {row['brand_type'].lower()} brand"
    if said not in (row[column] or ""):
        return False
    others = [t for t in ref.BRAND_TYPES if t != row["brand_type"]]
    row[column] = row[column].replace(said, f"is a {others[int(rng.integers(len(others)))].lower()} brand")
    return True


def _late_delivery(column: str, row: dict, rng: np.random.Generator) -> bool:
    if not row.get(column):  # only an order delivered (or returned after delivery) has a delivery date
        return False
    row[column] = _iso(row["order_date"], int(rng.integers(15, 43)))  # two to six weeks, not within 14 days
    return True


# kind -> mutate(column, row, rng): change the row in place; False when the kind does not apply to it
MUTATIONS = {
    "missing_email": _blank, "missing_phone": _blank, "missing_description": _blank,
    "missing_visit_start": _blank, "impossible_birth_date": _impossible_birth_date, "unknown_enum": _unknown_enum,
    "negative_amount": _payment("negative_amount"), "mismatched_amount": _payment("mismatched_amount"),
    "late_payment": _payment("late_payment"), "mismatched_category": _other_category,
    "mismatched_description": _other_brand_type, "late_delivery": _late_delivery,
    "page_view_burst": lambda column, row, rng: row["event_action"] == "page_view",  # copies: plant_lines
}  # fmt: skip


def _mutate(kind: str, column: str | None, row: dict, rng: np.random.Generator) -> bool:
    """Apply one defect to a row; False when the kind does not apply to it."""
    return MUTATIONS[kind](column, row, rng)


def picks(source: str, n: int, rate: float, rng: np.random.Generator) -> list[tuple[int, str, str | None]]:
    """(row, kind, column) for the rows of n that draw a defect: one draw per row."""
    kinds = KINDS.get(source, [])
    if not rate or not kinds or not n:
        return []
    drawn = (rng.random(n) / rate).astype(np.int64)
    return [(i, *kinds[drawn[i]]) for i in np.flatnonzero(drawn < len(kinds)).tolist()]


def plant(source: str, rows: list[dict], rate: float, rng: np.random.Generator) -> list[dict]:
    """Plant defects in place; returns rows (duplicates appended after their original).

    A row that gets a defect carries `_defects`, a list of (kind, column). Rows that
    already carry one (planted upstream, e.g. unknown customers) are left alone.
    """
    duplicates = {}
    for i, kind, column in picks(source, len(rows), rate, rng):  # only the rows that get a defect are visited
        row = rows[i]
        if row.get("_defects"):
            continue
        if kind == "duplicate_product_id":
            duplicates[i] = {**row, "sku_id": f"{row['sku_id']}D", "_defects": [(kind, column)]}
        elif kind == "duplicate_brand_id":  # the same brand again, as a careless export repeats it
            duplicates[i] = {**row, "_defects": [(kind, column)]}
        elif kind == "malformed_line" or _mutate(kind, column, row, rng):
            row["_defects"] = [(kind, column)]
    if not duplicates:
        return rows
    return [r for i, row in enumerate(rows) for r in ((row, duplicates[i]) if i in duplicates else (row,))]


def plant_lines(source: str, lines: list[bytes], row, rate: float, rng: np.random.Generator) -> list[tuple]:
    """Plant defects in serialised JSON lines (`row(i)` gives line i as a dict); returns (line, kind, column, key).

    The same draws, kinds and changes as `plant`, for sources written from columns. A page-view burst
    appends its copies after the file's last line, so every other line keeps its number.
    """
    planted = []
    for i, kind, column in picks(source, len(lines), rate, rng):
        record = row(i)
        if kind == "malformed_line":
            whole = orjson.dumps(record)
            lines[i] = whole[: len(whole) // 2]  # a record cut off mid-write
        elif kind == "page_view_burst" and _mutate(kind, column, record, rng):
            lines += [orjson.dumps({**record, "activity_uuid": f"{record['activity_uuid']}-{k}"})
                      for k in range(1, BURST_COPIES + 1)]  # fmt: skip
        elif kind != "page_view_burst" and _mutate(kind, column, record, rng):
            lines[i] = orjson.dumps(record)
        else:
            continue
        planted.append((i, kind, column, record))
    return planted


def bounce_spike(lines: list[bytes], row, records: int, hour: dt.datetime, rng: np.random.Generator) -> int:
    """Append one-page sessions to an hour's events (`records` of them from the simulation), as many as the
    hour had sessions and at least 20: its bounce rate jumps far past the week before's. Returns how many."""
    n = max(20, len({row(i)["session_id"] for i in range(records)}))
    channels = list(ref.TRAFFIC)
    for k in range(n):
        uid = f"spike-{int(rng.integers(1 << 62)):x}-{k}"
        at = (hour + dt.timedelta(seconds=int(rng.integers(3600)))).strftime("%Y-%m-%dT%H:%M:%SZ")
        channel = channels[int(rng.integers(len(channels)))]
        lines.append(orjson.dumps({
            "activity_uuid": uid, "session_id": uid, "anonymous_id": uid, "entity_id": None, "visit_start_ts": at,
            "activity_ts": at, "event_action": "page_view", "product_sku": None, "quantity": None,
            "order_value": None, "transaction_id": None, "traffic_channel": channel,
            "traffic_source": ref.TRAFFIC[channel][0], "occurrence": 1,
        }))  # fmt: skip
    return n
