"""The right to be forgotten: `c360 forget --customer-id ID` removes a customer from every table.

- Rows that belong to the customer go: every table's rows whose customer key (customer_id, entity_id) is
  the customer, whose order_id is one of the customer's orders, whose session_id is one of the customer's
  web sessions, and every reject whose record names any of them.
- Free text elsewhere (the access log's statements, check diagnostics) has the customer's id, email and
  phone replaced by `<erased>`.
- The request is recorded in audit.erasure_requests, and the customer's keys, hashed with C360_PII_SALT,
  in audit.erasure_suppression: the loaders set aside any record with a suppressed key (as a reject with
  no personal data), so re-ingesting old landing files does not bring the customer back.
All of it is one transaction: a crash leaves the warehouse as it was, and the command can run again.
The landing zone belongs to the source systems and is not changed (docs/governance.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field

from c360_core.settings import Settings
from c360_core.warehouse import SCHEMAS, Warehouse, arrow_table, connect, create_table, table_exists

REQUEST_COLUMNS = {"request_id": "varchar", "customer_hash": "varchar", "reason": "varchar",
                   "requested_at": "timestamp", "rows_removed": "bigint", "values_scrubbed": "bigint"}  # fmt: skip
SUPPRESSION_COLUMNS = {"key_hash": "varchar", "kind": "varchar", "request_id": "varchar"}
ERASED = "<erased>"
# the landing sources' columns that tie a record to a customer, and the kind of key each holds
SOURCE_KEYS = {
    "customers": {"customer_id": "customer"},
    "orders": {"customer_id": "customer", "order_id": "order"},
    "order_line_items": {"order_id": "order"},
    "transactions": {"order_id": "order"},
    "web_events": {"entity_id": "customer", "session_id": "session"},
}
TEXT_TYPES = ("varchar", "text", "character varying")


def key_hash(value: str, salt: str) -> str:
    """A key as the suppression list keeps it: salted SHA-256 (C360_PII_SALT), never the key itself."""
    return hashlib.sha256(f"{salt}{value}".encode()).hexdigest()


@dataclass
class Erasure:
    request_id: str
    rows_removed: dict[str, int] = field(default_factory=dict)
    values_scrubbed: int = 0


@dataclass
class Identifiers:
    customer_id: str
    orders: list[str]
    sessions: list[str]
    texts: list[str]  # values to find in free text: the id, emails, phones

    @property
    def keys(self) -> dict[str, list[str]]:
        return {"customer": [self.customer_id], "order": self.orders, "session": self.sessions}


def ensure_tables(wh: Warehouse) -> None:
    create_table(wh, "audit.erasure_requests", REQUEST_COLUMNS)
    create_table(wh, "audit.erasure_suppression", SUPPRESSION_COLUMNS)


def suppressed(wh: Warehouse) -> set[str]:
    ensure_tables(wh)
    return {h for (h,) in wh.query("select key_hash from audit.erasure_suppression")[1]}


def _identifiers(wh: Warehouse, customer_id: str) -> Identifiers:
    def values(sql: str) -> list[str]:
        return sorted({str(v) for (v,) in wh.query(sql, [customer_id])[1] if v})

    emails = phones = orders = sessions = []
    if table_exists(wh, "raw.customers"):
        emails = values("select email_address from raw.customers where customer_id = ?")
        phones = values("select phone_number from raw.customers where customer_id = ?")
    if table_exists(wh, "raw.orders"):
        orders = values("select order_id from raw.orders where customer_id = ?")
    if table_exists(wh, "raw.web_events"):
        sessions = values("select session_id from raw.web_events where entity_id = ?")
    return Identifiers(customer_id, orders, sessions, [customer_id, *emails, *phones])


def _tables(wh: Warehouse) -> dict[str, list[tuple[str, str]]]:
    """schema.table -> [(column, type)] of every base table in the c360 schemas."""
    marks = ", ".join(["?"] * len(SCHEMAS))
    _, rows = wh.query(
        "select c.table_schema, c.table_name, c.column_name, lower(c.data_type) from information_schema.columns c "
        "join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name "
        f"where t.table_type = 'BASE TABLE' and c.table_schema in ({marks}) order by c.ordinal_position",
        list(SCHEMAS),
    )
    out: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, kind in rows:
        out.setdefault(f"{schema}.{table}", []).append((column, kind))
    return out


KEY_COLUMNS = {"customer_id": "customer", "entity_id": "customer", "order_id": "order", "session_id": "session"}


def _delete_rows(wh: Warehouse, table: str, columns: list[tuple[str, str]], ids: Identifiers) -> int:
    names = {c for c, _ in columns}
    conditions, params = [], []
    for column, kind in KEY_COLUMNS.items():
        values = ids.keys[kind]
        if column in names and values:
            conditions.append(f"{column} in ({', '.join(['?'] * len(values))})")
            params += values
    if table.endswith("__rejects") and "record" in names:  # a reject naming the customer is the customer's
        for text in [*ids.texts, *ids.orders, *ids.sessions]:
            conditions.append("strpos(record, ?) > 0")
            params.append(text)
    if not conditions:
        return 0
    where = " or ".join(conditions)
    _, [(count,)] = wh.query(f"select count(*) from {table} where {where}", params)
    if count:
        wh.execute(f"delete from {table} where {where}", params)
    return int(count)


def _scrub_text(wh: Warehouse, table: str, columns: list[tuple[str, str]], ids: Identifiers) -> int:
    """Replace the customer's id, emails and phones in the table's free text; one probe query first."""
    texts = [c for c, kind in columns if kind in TEXT_TYPES]
    pairs = [(c, t) for c in texts for t in ids.texts]
    if not pairs:
        return 0
    probe = " or ".join(f"strpos({c}, ?) > 0" for c, _ in pairs)
    _, [(hits,)] = wh.query(f"select count(*) from {table} where {probe}", [t for _, t in pairs])
    if not hits:
        return 0
    scrubbed = 0
    for column, text in pairs:
        _, [(count,)] = wh.query(f"select count(*) from {table} where strpos({column}, ?) > 0", [text])
        if count:
            wh.execute(f"update {table} set {column} = replace({column}, ?, ?) where strpos({column}, ?) > 0",
                       [text, ERASED, text])  # fmt: skip
            scrubbed += int(count)
    return scrubbed


def forget(cfg: Settings, customer_id: str, reason: str = "") -> Erasure:
    """Remove one customer everywhere in the warehouse, in one transaction, and suppress their keys."""
    out = Erasure(uuid.uuid4().hex[:12])
    with connect(cfg) as wh:
        ensure_tables(wh)
        ids = _identifiers(wh, customer_id)
        with wh.transaction():
            for table, columns in _tables(wh).items():
                if table.startswith("audit.erasure_"):
                    continue
                removed = _delete_rows(wh, table, columns, ids)
                if removed:
                    out.rows_removed[table] = removed
                out.values_scrubbed += _scrub_text(wh, table, columns, ids)
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            request = (out.request_id, key_hash(customer_id, cfg.pii_salt), reason, now, sum(out.rows_removed.values()),
                       out.values_scrubbed)  # fmt: skip
            wh.insert_arrow("audit.erasure_requests", arrow_table(REQUEST_COLUMNS, [request]))
            keys = {(key_hash(v, cfg.pii_salt), kind) for kind, values in ids.keys.items() for v in values}
            entries = [(h, k, out.request_id) for h, k in sorted(keys)]
            wh.insert_arrow("audit.erasure_suppression", arrow_table(SUPPRESSION_COLUMNS, entries))
        if cfg.target == "duckdb":
            wh.execute("checkpoint")  # deleted rows leave the file's blocks, not only the query results
    return out
