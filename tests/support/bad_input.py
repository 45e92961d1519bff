"""A catalogue of bad input, as real feeds send it: each kind planted in a landing file of its own.

Every kind says what must happen to its file: refused as a whole (with the reason), or loaded with the
listed records rejected (line and reason) and the rest loaded, and, for a valid oddity, the value that must
arrive in raw. docs/landing-zone.md lists the same kinds (a test keeps the two in step).

The records are built from real records of the landing zone (so they are otherwise valid), with keys of
their own: nothing collides with a generated record, so no blocking uniqueness check fires.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.readers import files, read_records


@dataclass(frozen=True)
class Kind:
    name: str
    category: str  # encoding, types, numbers, dates, structure, size, nesting, xml, file
    source: str
    rel: str  # the landing file it is planted in
    content: bytes
    refused: str | None = None  # the file is refused as a whole: part of the reason
    rejects: dict[int, str] = field(default_factory=dict)  # line -> part of the reason
    loads: int = 0  # records that load
    # a valid oddity: (SQL over raw.<source> returning one value, the value expected)
    arrives: tuple[str, object] | None = None


def _jsonl(records: list) -> bytes:
    return b"".join(
        (r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode()) + b"\n" for r in records
    )


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _first(landing: Path, source: str) -> dict:
    return next(r for p in files(landing, source) for _, r in read_records(p, source) if r)


def _nested(depth: int) -> dict:
    node: dict = {"leaf": 1}
    for _ in range(depth):
        node = {"next": node}
    return node


def _brands(inner: str, head: str = "<?xml version='1.0' encoding='utf-8'?>") -> bytes:
    return f"{head}\n<brands>{inner}</brands>\n".encode()


def _brand(brand: dict, **changes) -> str:
    values = {**brand, **changes}
    return "<brand>" + "".join(f"<{k}>{v}</{k}>" for k, v in values.items() if v is not None) + "</brand>"


def catalogue(landing: Path) -> list[Kind]:
    event, order, line = _first(landing, "web_events"), _first(landing, "orders"), _first(landing, "order_line_items")
    payment, customer = _first(landing, "transactions"), _first(landing, "customers")
    product, brand = _first(landing, "products"), _first(landing, "brands")
    header = list(customer)

    def ev(n: str, **changes) -> dict:
        return {**event, "activity_uuid": f"bad-{n}", "session_id": f"bad-session-{n}", **changes}

    def hour(h: int) -> str:
        return f"web/events/date=2026-02-15/hour={h:02d}/events.jsonl"

    def od(n: str, **changes) -> dict:
        return {**order, "order_id": f"BAD-O{n}", "transaction_id": f"BAD-T{n}", **changes}

    def minute(m: int, source: str = "orders") -> str:
        return f"shop/{source}/{source}_2026-02-15T10-{m:02d}.jsonl"

    def pay(n: str, **changes) -> list[str]:
        return [str({**payment, "transaction_id": f"BAD-P{n}", **changes}[c]) for c in payment]

    def cust(n: str, **changes) -> dict:
        return {**customer, "customer_id": f"BAD-C{n}", **changes}

    def day(source: str, d: int, suffix: str = "") -> str:
        folder = {"customers": "crm/customers", "transactions": "payments/transactions"}[source]
        return f"{folder}/{source}_2026-02-{d:02d}.csv{suffix}"

    def prod(n: str, **changes) -> dict:
        return {**product, "product_id": f"BAD-PR{n}", "sku_id": f"BAD-SKU{n}", **changes}

    def products_file(d: int) -> str:
        return f"catalog/products/products_2026-02-{d:02d}.json"

    def brands_file(month: int) -> str:
        return f"catalog/brands/brands_2026-{month:02d}.xml"

    huge = "x" * 256 * 1024
    nul = json.dumps(ev("w14", traffic_source="a\u0000b")).encode()  # JSON's escape for a NUL character
    whole = json.dumps(od("o8")).encode()
    customer_row = [str(cust("c9")[c]) for c in header]
    raw_gzip = gzip.compress(_csv(header, [[str(cust("c8")[c]) for c in header]]))
    sql = "select {expr} from raw.{source} where {key} = '{value}'"

    kinds = [
        # -- encodings --
        Kind(
            "utf8_bom_jsonl",
            "encoding",
            "web_events",
            hour(1),
            codecs.BOM_UTF8 + _jsonl([ev("w1a"), ev("w1b")]),
            loads=2,
            arrives=(sql.format(expr="count(*)", source="web_events", key="session_id", value="bad-session-w1a"), 1),
        ),
        Kind(
            "utf8_bom_csv",
            "encoding",
            "customers",
            day("customers", 15),
            codecs.BOM_UTF8 + _csv(header, [[str(cust("c1")[c]) for c in header]]),
            loads=1,
            arrives=(
                sql.format(expr="first_name", source="customers", key="customer_id", value="BAD-Cc1"),
                customer["first_name"],
            ),
        ),
        Kind(
            "latin1_line_in_utf8_file",
            "encoding",
            "web_events",
            hour(12),
            _jsonl(
                [
                    ev("w12a"),
                    json.dumps(ev("w12b", traffic_source="caf\u00e9"), ensure_ascii=False)
                    .encode()
                    .replace("\u00e9".encode(), b"\xe9"),
                ]
            ),
            rejects={2: "malformed JSON"},
            loads=1,
        ),
        Kind(
            "latin1_csv_file",
            "encoding",
            "customers",
            day("customers", 16),
            _csv(header, [[str(cust("c7", first_name="Jos\u00e9")[c]) for c in header]]).replace(
                "\u00e9".encode(), b"\xe9"
            ),
            refused="not UTF-8",
        ),
        Kind(
            "declared_latin1_xml",
            "encoding",
            "brands",
            brands_file(3),
            _brands(_brand(brand, brand_id="BAD-B4", brand_name="Caf\u00e9 Noir"))
            .replace(b"encoding='utf-8'", b"encoding='ISO-8859-1'")
            .replace("\u00e9".encode(), b"\xe9"),
            loads=1,
            arrives=(sql.format(expr="brand_name", source="brands", key="brand_id", value="BAD-B4"), "Caf\u00e9 Noir"),
        ),
        Kind(
            "nul_character",
            "encoding",
            "web_events",
            hour(14),
            _jsonl([nul, ev("w14b")]),
            rejects={1: "bad varchar in traffic_source"},
            loads=1,
        ),
        # -- types --
        Kind(
            "fraction_in_integer",
            "types",
            "web_events",
            hour(4),
            _jsonl([ev("w4", quantity=2.5)]),
            rejects={1: "bad integer in quantity"},
        ),
        Kind(
            "whole_float_in_integer",
            "types",
            "web_events",
            hour(5),
            _jsonl([ev("w5", quantity=3.0)]),
            loads=1,
            arrives=(sql.format(expr="quantity", source="web_events", key="activity_uuid", value="bad-w5"), 3),
        ),
        Kind(
            "boolean_in_number",
            "types",
            "web_events",
            hour(6),
            _jsonl([ev("w6", occurrence=True)]),
            rejects={1: "unexpected bool in occurrence"},
        ),
        Kind(
            "array_in_text",
            "types",
            "web_events",
            hour(7),
            _jsonl([ev("w7", product_sku=["a", "b"])]),
            rejects={1: "unexpected list in product_sku"},
        ),
        Kind(
            "object_in_number",
            "types",
            "orders",
            minute(6),
            _jsonl([od("o6", discounted_amount={"value": 1})]),
            rejects={1: "unexpected dict in discounted_amount"},
        ),
        Kind(
            "integer_as_text",
            "types",
            "order_line_items",
            minute(1, "order_line_items"),
            _jsonl([{**line, "order_li_id": "BAD-L1", "qty": "2"}]),
            loads=1,
            arrives=(sql.format(expr="qty", source="order_line_items", key="order_li_id", value="BAD-L1"), 2),
        ),
        Kind(
            "word_for_number",
            "types",
            "customers",
            day("customers", 17),
            _csv(header, [[str(cust("c5", number_of_children="two")[c]) for c in header]]),
            rejects={2: "bad integer in number_of_children"},
        ),
        Kind(
            "object_in_price",
            "types",
            "products",
            products_file(16),
            json.dumps([prod("p4", list_price={"amount": 1}), prod("p4b")]).encode(),
            rejects={0: "unexpected dict in list_price"},
            loads=1,
        ),
        # -- numbers --
        Kind(
            "nan_literal",
            "numbers",
            "orders",
            minute(1),
            _jsonl(
                [
                    json.dumps(od("o1"))
                    .encode()
                    .replace(f'"total_amount": {json.dumps(order["total_amount"])}'.encode(), b'"total_amount": NaN'),
                ]
            ),
            rejects={1: "malformed JSON"},
        ),
        Kind(
            "overflow_to_infinity",
            "numbers",
            "orders",
            minute(2),
            _jsonl(
                [
                    json.dumps(od("o2"))
                    .encode()
                    .replace(
                        f'"total_amount": {json.dumps(order["total_amount"])}'.encode(), b'"total_amount": -1e999'
                    ),
                ]
            ),
            rejects={1: "malformed JSON"},
        ),
        Kind(
            "infinity_as_text",
            "numbers",
            "transactions",
            day("transactions", 15),
            _csv(list(payment), [pay("t1", amount="Infinity")]),
            rejects={2: "bad double in amount"},
        ),
        Kind(
            "nan_as_text",
            "numbers",
            "transactions",
            day("transactions", 20),
            _csv(list(payment), [pay("t6", amount="nan"), pay("t6b")]),
            rejects={2: "bad double in amount"},
            loads=1,
        ),
        Kind(
            "thousands_separator",
            "numbers",
            "transactions",
            day("transactions", 16),
            _csv(list(payment), [pay("t2", amount="1,234.56")]),
            rejects={2: "bad double in amount"},
        ),
        Kind(
            "exponent",
            "numbers",
            "transactions",
            day("transactions", 17),
            _csv(list(payment), [pay("t3", amount="1e3")]),
            loads=1,
            arrives=(sql.format(expr="amount", source="transactions", key="transaction_id", value="BAD-Pt3"), 1000.0),
        ),
        Kind(
            "padded_number_text",
            "numbers",
            "orders",
            minute(3),
            _jsonl([od("o3", total_amount=" 12.50 ")]),
            loads=1,
            arrives=(sql.format(expr="total_amount", source="orders", key="order_id", value="BAD-Oo3"), 12.5),
        ),
        Kind(
            "integer_out_of_range",
            "numbers",
            "order_line_items",
            minute(2, "order_line_items"),
            _jsonl([{**line, "order_li_id": "BAD-L2", "qty": 99_999_999_999}]),
            rejects={1: "bad integer in qty"},
        ),
        # -- dates --
        Kind(
            "offset_timestamp",
            "dates",
            "web_events",
            hour(3),
            _jsonl([ev("w3", activity_ts="2026-02-15T03:30:00+02:00", visit_start_ts="2026-02-15T03:29:00+02:00")]),
            loads=1,
            arrives=(
                sql.format(
                    expr="cast(activity_ts as varchar)", source="web_events", key="activity_uuid", value="bad-w3"
                ),
                "2026-02-15 01:30:00",
            ),
        ),
        Kind(
            "date_without_time",
            "dates",
            "orders",
            minute(4),
            _jsonl([od("o4", order_date="2026-02-15")]),
            loads=1,
            arrives=(
                sql.format(expr="cast(order_date as varchar)", source="orders", key="order_id", value="BAD-Oo4"),
                "2026-02-15 00:00:00",
            ),
        ),
        Kind(
            "impossible_date",
            "dates",
            "orders",
            minute(7),
            _jsonl([od("o7", order_date="2026-02-30T10:00:00Z")]),
            rejects={1: "bad timestamp in order_date"},
        ),
        Kind(
            "day_first_date",
            "dates",
            "customers",
            day("customers", 18),
            _csv(header, [[str(cust("c4", date_of_birth="31/12/1980")[c]) for c in header]]),
            rejects={2: "bad date in date_of_birth"},
        ),
        Kind(
            "words_for_a_time",
            "dates",
            "transactions",
            day("transactions", 18),
            _csv(list(payment), [pay("t4", transaction_ts="yesterday")]),
            rejects={2: "bad timestamp in transaction_ts"},
        ),
        # -- structure --
        Kind(
            "crlf_and_blank_lines",
            "structure",
            "web_events",
            hour(2),
            b"\r\n".join([json.dumps(ev("w2a")).encode(), b"", b"   ", json.dumps(ev("w2b")).encode(), b""]),
            loads=2,
        ),
        Kind(
            "array_instead_of_record",
            "structure",
            "web_events",
            hour(8),
            _jsonl([[1, 2, 3], ev("w8")]),
            rejects={1: "missing activity_uuid"},
            loads=1,
        ),
        Kind("unknown_field", "structure", "web_events", hour(9), _jsonl([ev("w9", utm_campaign="winter")]), loads=1),
        Kind(
            "missing_key",
            "structure",
            "orders",
            minute(5),
            _jsonl([{k: v for k, v in od("o5").items() if k != "order_id"}]),
            rejects={1: "missing order_id"},
        ),
        Kind(
            "cut_off_last_record",
            "structure",
            "orders",
            minute(8),
            json.dumps(od("o8b")).encode() + b"\n" + whole[: len(whole) // 2],
            rejects={2: "malformed JSON"},
            loads=1,
        ),
        Kind(
            "too_few_fields",
            "structure",
            "transactions",
            day("transactions", 19),
            _csv(list(payment), [pay("t5")[:-1]]),
            rejects={2: f"expected {len(payment)} fields, got {len(payment) - 1}"},
        ),
        Kind(
            "reordered_header",
            "structure",
            "customers",
            day("customers", 19),
            _csv(header[::-1], [[str(cust("c2")[c]) for c in header[::-1]]]),
            loads=1,
            arrives=(
                sql.format(expr="email_address", source="customers", key="customer_id", value="BAD-Cc2"),
                customer["email_address"],
            ),
        ),
        Kind(
            "newline_inside_quotes",
            "structure",
            "customers",
            day("customers", 20),
            _csv(header, [[str(cust("c3", mailing_street="12 Main St\nApt 4")[c]) for c in header]]),
            loads=1,
            arrives=(
                sql.format(expr="mailing_street", source="customers", key="customer_id", value="BAD-Cc3"),
                "12 Main St\nApt 4",
            ),
        ),
        Kind(
            "missing_csv_column",
            "structure",
            "customers",
            day("customers", 21),
            _csv(
                [c for c in header if c != "email_address"],
                [[str(cust("c6")[c]) for c in header if c != "email_address"]],
            ),
            refused="CSV header is missing column(s): email_address",
        ),
        Kind(
            "json_object_not_array",
            "structure",
            "products",
            products_file(15),
            json.dumps({"products": [prod("p1")]}).encode(),
            refused="expected a JSON array",
        ),
        Kind(
            "string_in_array",
            "structure",
            "products",
            products_file(17),
            json.dumps(["not a product", prod("p3")]).encode(),
            rejects={0: "missing product_id"},
            loads=1,
        ),
        Kind(
            "missing_xml_key",
            "structure",
            "brands",
            brands_file(4),
            _brands(_brand(brand, brand_id=None) + _brand(brand, brand_id="BAD-B6")),
            rejects={0: "missing brand_id"},
            loads=1,
        ),
        # -- size --
        Kind(
            "huge_field",
            "size",
            "web_events",
            hour(11),
            _jsonl([ev("w11", traffic_source=huge)]),
            loads=1,
            arrives=(
                sql.format(expr="length(traffic_source)", source="web_events", key="activity_uuid", value="bad-w11"),
                len(huge),
            ),
        ),
        Kind("empty_file", "size", "web_events", hour(13), b""),
        Kind("empty_json_file", "size", "products", products_file(18), b"", refused="not valid JSON"),
        # -- nesting --
        Kind(
            "deeply_nested_extra_field",
            "nesting",
            "web_events",
            hour(10),
            _jsonl([ev("w10", extra=_nested(64))]),
            loads=1,
        ),
        # -- XML entities --
        Kind(
            "external_entity",
            "xml",
            "brands",
            brands_file(5),
            _brands(
                _brand(brand, brand_id="BAD-B2", description="&secret;"),
                head="<?xml version='1.0'?>\n<!DOCTYPE brands [<!ENTITY secret SYSTEM 'file:///etc/passwd'>]>",
            ),
            refused="not well-formed XML",
        ),
        Kind(
            "entity_expansion",
            "xml",
            "brands",
            brands_file(6),
            _brands(
                _brand(brand, brand_id="BAD-B3", description="&l9;"),
                head="<?xml version='1.0'?>\n<!DOCTYPE brands [<!ENTITY l0 'lol'>"
                + "".join(f"<!ENTITY l{i} '{f'&l{i - 1};' * 10}'>" for i in range(1, 10))
                + "]>",
            ),
            refused="not well-formed XML",
        ),
        Kind(
            "escaped_text_and_cdata",
            "xml",
            "brands",
            brands_file(7),
            _brands(_brand(brand, brand_id="BAD-B5", description="<![CDATA[A <b>bold</b>]]> &amp; more")),
            loads=1,
            arrives=(
                sql.format(expr="description", source="brands", key="brand_id", value="BAD-B5"),
                "A <b>bold</b> & more",
            ),
        ),
        # -- whole-file damage --
        Kind(
            "unclosed_xml",
            "file",
            "brands",
            brands_file(8),
            _brands(_brand(brand, brand_id="BAD-B1"))[:-12],
            refused="not well-formed XML",
        ),
        Kind(
            "cut_off_json_array",
            "file",
            "products",
            products_file(19),
            json.dumps([prod("p2"), prod("p2b")]).encode()[:-40],
            refused="not valid JSON",
        ),
        Kind(
            "truncated_gzip",
            "file",
            "customers",
            day("customers", 22, ".gz"),
            raw_gzip[: len(raw_gzip) // 2],
            refused="cannot decompress",
        ),
        Kind("binary_garbage", "file", "customers", day("customers", 23), bytes(range(256)) * 4, refused="not UTF-8"),
        Kind(
            "one_good_row_after_a_bad_one",
            "file",
            "customers",
            day("customers", 24),
            _csv(header, [customer_row[:3], customer_row]),
            rejects={2: f"expected {len(header)} fields, got 3"},
            loads=1,
        ),
    ]
    names = [k.name for k in kinds]
    assert len(set(names)) == len(names) and len({k.rel for k in kinds}) == len(kinds), "one file per kind"
    return kinds


def plant(landing: Path, kinds: list[Kind]) -> None:
    for kind in kinds:
        path = landing / kind.rel
        assert not path.exists(), f"{kind.rel} is a generated file"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(kind.content)
