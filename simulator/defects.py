"""Planted data defects and their manifest.

Each record draws one uniform number; it gets at most one defect kind, so a
test can check every manifest entry against the file without ambiguity.
Every planted defect is written to the manifest with its file and line.
"""

from __future__ import annotations

import numpy as np
import orjson

# Per source: (kind, column) pairs planted per record at write time.
KINDS: dict[str, list[tuple[str, str | None]]] = {
    "customers": [
        ("missing_email", "email_address"),
        ("missing_phone", "phone_number"),
        ("impossible_birth_date", "date_of_birth"),
        ("unknown_enum", "gender"),
    ],
    "products": [("duplicate_product_id", "product_id")],
    "brands": [("unknown_enum", "brand_type")],
    "orders": [("malformed_line", None), ("unknown_enum", "order_status")],
    "order_line_items": [("malformed_line", None)],
    "transactions": [
        ("negative_amount", "amount"),
        ("mismatched_amount", "amount"),
        ("unknown_enum", "payment_method"),
    ],
    "web_events": [("malformed_line", None), ("unknown_enum", "event_action")],
}
# Values outside the accepted sets, as sloppy upstream systems produce them.
BAD_ENUMS = {
    "gender": ["F", "M", "unknown"],
    "order_status": ["Pending", "On Hold"],
    "event_action": ["click", "scroll"],
    "payment_method": ["Crypto", "Cheque"],
    "brand_type": ["Unknown", "Generic"],
}
# All kinds the simulator can plant, including those planted outside KINDS.
ALL_KINDS = sorted({k for kinds in KINDS.values() for k, _ in kinds} | {"unknown_customer", "late_file"})


def _mutate(kind: str, column: str | None, row: dict, rng: np.random.Generator) -> bool:
    """Apply one defect to a row; False when the kind does not apply to it."""
    if kind in ("missing_email", "missing_phone"):
        row[column] = ""
    elif kind == "impossible_birth_date":
        future = rng.random() < 0.5
        year = int(rng.integers(2090, 2100)) if future else int(rng.integers(1800, 1880))
        row[column] = f"{year}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
    elif kind == "unknown_enum":
        row[column] = str(rng.choice(BAD_ENUMS[column]))
    elif kind in ("negative_amount", "mismatched_amount"):
        if row["amount"] <= 0:  # refunds are negative by design; only payments get these
            return False
        if kind == "negative_amount":
            row["amount"] = -row["amount"]
        else:
            row["amount"] = round(row["amount"] + float(rng.choice([-1, 1])) * round(rng.uniform(1, 25), 2), 2)
    return True


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
        elif kind == "malformed_line" or _mutate(kind, column, row, rng):
            row["_defects"] = [(kind, column)]
    if not duplicates:
        return rows
    return [r for i, row in enumerate(rows) for r in ((row, duplicates[i]) if i in duplicates else (row,))]


def plant_lines(source: str, lines: list[bytes], row, rate: float, rng: np.random.Generator) -> list[tuple]:
    """Plant defects in serialised JSON lines (`row(i)` gives line i as a dict); returns (line, kind, column, key).

    The same draws, kinds and changes as `plant`, for sources written from columns.
    """
    planted = []
    for i, kind, column in picks(source, len(lines), rate, rng):
        record = row(i)
        if kind == "malformed_line":
            whole = orjson.dumps(record)
            lines[i] = whole[: len(whole) // 2]  # a record cut off mid-write
        elif _mutate(kind, column, record, rng):
            lines[i] = orjson.dumps(record)
        else:
            continue
        planted.append((i, kind, column, record))
    return planted
