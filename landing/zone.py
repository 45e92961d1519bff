"""The landing zone: where each source's files go, their columns, and how their periods read from their names.

This is the single definition the loaders read and every producer (the simulator among them) writes by.
docs/landing-zone.md documents the same table.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import gzip
import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Source:
    name: str
    system: str
    cadence: str
    pattern: str  # glob relative to the landing root
    fmt: str  # csv | json | xml | jsonl
    key: str  # the column that identifies a record (or a version of it)
    columns: dict[str, str]  # column -> documented type


VARCHAR, INTEGER, DOUBLE, DATE, TIMESTAMP = "varchar", "integer", "double", "date", "timestamp"

SOURCES: dict[str, Source] = {
    s.name: s
    for s in [
        Source("customers", "CRM", "daily", "crm/customers/customers_*.csv", "csv", "customer_id", {
            "customer_id": VARCHAR, "first_name": VARCHAR, "last_name": VARCHAR, "gender": VARCHAR,
            "phone_number": VARCHAR, "email_address": VARCHAR, "date_of_birth": DATE,
            "education_level": VARCHAR, "marital_status": VARCHAR, "number_of_children": INTEGER,
            "registration_date": TIMESTAMP, "occupation": VARCHAR, "hobbies": VARCHAR,
            "annual_income": DOUBLE, "degree_of_loyalty": INTEGER, "mailing_street": VARCHAR,
            "city": VARCHAR, "state": VARCHAR, "country": VARCHAR, "zipcode": VARCHAR, "updated_at": TIMESTAMP,
        }),
        Source("products", "catalog", "weekly", "catalog/products/products_*.json", "json", "product_id", {
            "sku_id": VARCHAR, "product_id": VARCHAR, "product_name": VARCHAR, "product_category": VARCHAR,
            "product_subcategory": VARCHAR, "brand_id": VARCHAR, "product_colour": VARCHAR,
            "product_size": VARCHAR, "list_price": DOUBLE, "sale_price": DOUBLE, "launched_ts": TIMESTAMP,
        }),
        Source("brands", "catalog", "monthly", "catalog/brands/brands_*.xml", "xml", "brand_id", {
            "brand_id": VARCHAR, "brand_name": VARCHAR, "parent_company": VARCHAR, "description": VARCHAR,
            "brand_type": VARCHAR, "website": VARCHAR, "founded_year": VARCHAR, "headquarters": VARCHAR,
        }),
        Source("orders", "shop", "near real time", "shop/orders/orders_*.jsonl", "jsonl", "order_id", {
            "order_id": VARCHAR, "customer_id": VARCHAR, "order_date": TIMESTAMP, "order_status": VARCHAR,
            "order_delivery_date": TIMESTAMP, "discounted_amount": DOUBLE, "shipping_amount": DOUBLE,
            "total_amount": DOUBLE, "payment_method": VARCHAR, "billing_address": VARCHAR,
            "shipping_address": VARCHAR, "transaction_id": VARCHAR, "updated_at": TIMESTAMP,
        }),
        Source("order_line_items", "shop", "near real time",
               "shop/order_line_items/order_line_items_*.jsonl", "jsonl", "order_li_id", {
            "order_li_id": VARCHAR, "order_id": VARCHAR, "product_id": VARCHAR, "qty": INTEGER,
            "unit_price": DOUBLE,
        }),
        Source("transactions", "payments", "daily", "payments/transactions/transactions_*.csv", "csv",
               "transaction_id", {
            "transaction_id": VARCHAR, "order_id": VARCHAR, "amount": DOUBLE, "payment_method": VARCHAR,
            "transaction_ts": TIMESTAMP,
        }),
        Source("web_events", "web analytics", "hourly", "web/events/date=*/hour=*/events.jsonl", "jsonl",
               "activity_uuid", {
            "activity_uuid": VARCHAR, "session_id": VARCHAR, "anonymous_id": VARCHAR, "entity_id": VARCHAR,
            "visit_start_ts": TIMESTAMP, "activity_ts": TIMESTAMP, "event_action": VARCHAR,
            "product_sku": VARCHAR, "quantity": INTEGER, "order_value": DOUBLE, "transaction_id": VARCHAR,
            "traffic_channel": VARCHAR, "traffic_source": VARCHAR, "occurrence": INTEGER,
        }),
    ]
}  # fmt: skip

# How old a source's last load may be before it counts as stale, by its cadence: the Dagster UI's freshness
# policies and the dashboard's quality page both use these windows.
STALE_AFTER = {"web_events": dt.timedelta(hours=2), "customers": dt.timedelta(hours=26),
               "transactions": dt.timedelta(hours=26), "products": dt.timedelta(days=8),
               "brands": dt.timedelta(days=32), "orders": dt.timedelta(hours=2),
               "order_line_items": dt.timedelta(hours=2)}  # fmt: skip

MANIFEST_DIR = "_manifest"  # beside the sources; loaders never read it
COMPRESSED = (".gz", ".zst")  # a landing file may come compressed: events.jsonl.gz, customers_....csv.zst


def files(landing: Path, source: str, dates: list[str] | None = None) -> list[Path]:
    """A source's files in the landing zone, compressed or not; dot files are deliveries still in progress.

    With `dates` (YYYY-MM-DD), a source whose files sit in date=... folders (web events) lists those days'
    folders only; other sources list every file, whatever `dates` says.
    """
    pattern = SOURCES[source].pattern
    if dates is not None and "date=*" in pattern:
        patterns = [pattern.replace("date=*", f"date={d}") for d in dates]
    else:
        patterns = [pattern]
    found = [p for g in patterns for p in _matching(str(landing), g.split("/"))]
    return [Path(p) for p in sorted(found, key=lambda p: p.split(os.sep))]  # as Paths sort: part by part


def _matching(base: str, parts: list[str]) -> list[str]:
    """The files under base whose names match the pattern parts, one directory listing per folder (pathlib's
    glob and a name test per file took 0.34 s for the 8,760 web files of a year)."""
    head, rest = parts[0], parts[1:]
    if "*" not in head and rest:
        return _matching(os.path.join(base, head), rest)
    forms = [head] if rest else [head + suffix for suffix in ("", *COMPRESSED)]  # a file may be compressed
    match = _name_regex("|".join(forms)).match
    try:
        entries = [e for e in os.scandir(base) if e.name[0] != "." and match(e.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    if not rest:
        return [e.path for e in entries if e.is_file()]
    return [p for e in entries if e.is_dir() for p in _matching(e.path, rest)]


@functools.cache
def _name_regex(forms: str) -> re.Pattern:
    return re.compile("|".join(fnmatch.translate(f) for f in forms.split("|")))


def decompress(rel: str, data: bytes) -> bytes:
    """A landing file's content: gunzipped or un-zstd'ed when its name says so. Raises ValueError if it is not."""
    try:
        if rel.endswith(".gz"):
            return gzip.decompress(data)
        if rel.endswith(".zst"):
            import pyarrow as pa  # noqa: PLC0415  (only compressed landing zones need it)

            return pa.input_stream(pa.py_buffer(data), compression="zstd").read()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise ValueError(f"cannot decompress {rel}: {err}") from err
    return data


def _uncompressed(rel: str) -> str:
    for suffix in COMPRESSED:
        if rel.endswith(suffix):
            return rel.removesuffix(suffix)
    return rel


def path_for(source: str, stamp: str) -> str:
    """The file path (relative to the landing root) for a source and its period stamp."""
    if source == "web_events":
        date, hour = stamp.split("T")
        return f"web/events/date={date}/hour={hour}/events.jsonl"
    return SOURCES[source].pattern.replace("*", stamp)


_STAMP_FORMATS = ("%Y-%m-%dT%H-%M", "%Y-%m-%dT%H", "%Y-%m-%d", "%Y-%m")


@functools.cache
def _pattern_regex(pattern: str) -> re.Pattern:
    return re.compile("^" + "(.+?)".join(re.escape(part) for part in pattern.split("*")) + "$")


_last_format: dict[str, str] = {}  # source -> the stamp format its last file had (a stamp fits one at most)


def period_of(source: str, rel: str) -> dt.datetime:
    """When the period a landing file covers begins (UTC, naive): the inverse of `path_for`.

    An hourly web file `date=2026-01-01/hour=05` starts at 05:00, a daily file at midnight,
    a monthly brands file on the first of its month, an order micro-batch at its window start.
    """
    match = _pattern_regex(SOURCES[source].pattern).match(_uncompressed(rel))
    if not match:
        raise ValueError(f"{rel!r} is not a {source} file ({SOURCES[source].pattern})")
    stamp = "T".join(match.groups())
    last = _last_format.get(source)
    for fmt in ([last] if last else []) + [f for f in _STAMP_FORMATS if f != last]:
        try:
            period = dt.datetime.strptime(stamp, fmt)
        except ValueError:
            continue
        _last_format[source] = fmt
        return period
    raise ValueError(f"{rel!r}: cannot read a period from {stamp!r}")


def _first(base: Path, parts: list[str]) -> Path | None:
    """The smallest path under base matching the pattern parts, name by name (dot files are in flight)."""
    if not parts:
        return base if base.is_file() else None
    head, rest = parts[0], parts[1:]
    heads = [head] if rest else [head + suffix for suffix in ("", *COMPRESSED)]  # a file may be compressed
    if "*" not in head and rest:
        return _first(base / head, rest)
    try:
        # one regex for every form of the name (fnmatch per entry and form: 0.35 s over 35k order files)
        match = re.compile("|".join(fnmatch.translate(h) for h in heads)).match
        names = sorted(e.name for e in os.scandir(base) if e.name[0] != "." and match(e.name))
    except (FileNotFoundError, NotADirectoryError):
        return None
    for name in names:
        if (found := _first(base / name, rest)) is not None:
            return found
    return None


def earliest_period(landing: Path, source: str) -> dt.datetime | None:
    """When the source's earliest landing file begins, or None when it has none.

    Period stamps are zero-padded ISO, so the smallest name is the earliest: a few directory listings,
    not a scan of every file.
    """
    found = _first(landing, SOURCES[source].pattern.split("/"))
    return period_of(source, str(found.relative_to(landing))) if found else None
