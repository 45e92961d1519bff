"""Every file parses with a standard reader, against the documented columns and cadence."""

import datetime as dt
import re

import duckdb
import pytest

from tests.support.readers import CONTRACT_COLUMNS, GLOBS, all_records, files, read_records

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TIMESTAMPS = {
    "customers": ["registration_date", "updated_at"],
    "orders": ["order_date", "updated_at"],
    "products": ["launched_ts"],
    "transactions": ["transaction_ts"],
    "web_events": ["visit_start_ts", "activity_ts"],
}


@pytest.mark.parametrize("source", list(GLOBS))
def test_every_file_parses_with_the_documented_columns(clean, source):
    paths = files(clean.out, source)
    assert paths, f"no {source} files"
    for path in paths:
        if path.suffix == ".csv":
            assert path.read_text().splitlines()[0].split(",") == CONTRACT_COLUMNS[source], path
        for _, record in read_records(path, source):
            assert record is not None, f"unparseable record in clean {path}"
            assert list(record) == CONTRACT_COLUMNS[source], path


@pytest.mark.parametrize("source", list(TIMESTAMPS))
def test_timestamps_are_iso_8601_utc(clean, source):
    for record in all_records(clean.out, source):
        for column in TIMESTAMPS[source]:
            assert ISO_UTC.match(record[column]), (source, column, record[column])


def test_each_cadence_has_its_files(clean):
    days = [clean.start + dt.timedelta(days=i) for i in range(clean.n_days)]
    root = clean.out
    assert [p.name for p in files(root, "customers")] == [f"customers_{d}.csv" for d in days]
    assert [p.name for p in files(root, "transactions")] == [f"transactions_{d}.csv" for d in days]
    expected_hours = sorted(f"web/events/date={d}/hour={h:02d}/events.jsonl" for d in days for h in range(24))
    assert [str(p.relative_to(root)) for p in files(root, "web_events")] == expected_hours
    assert [p.name for p in files(root, "products")] == [f"products_{d}.json" for d in days[::7]]
    months = sorted({d.strftime("%Y-%m") for d in days})
    assert [p.name for p in files(root, "brands")] == [f"brands_{m}.xml" for m in months]
    for source in ("orders", "order_line_items"):
        for p in files(root, source):
            stamp = dt.datetime.strptime(p.stem.rsplit("_", 1)[1], "%Y-%m-%dT%H-%M")
            assert stamp.minute % clean.order_batch_minutes == 0 and clean.start <= stamp.date() <= clean.end


def test_orders_land_in_the_micro_batch_of_their_update(clean):
    for p in files(clean.out, "orders"):
        window = dt.datetime.strptime(p.stem.rsplit("_", 1)[1], "%Y-%m-%dT%H-%M")
        for _, r in read_records(p, "orders"):
            updated = dt.datetime.strptime(r["updated_at"], "%Y-%m-%dT%H:%M:%SZ")
            assert window <= updated < window + dt.timedelta(minutes=clean.order_batch_minutes)


def test_duckdb_reads_every_source_with_typed_columns(clean):
    con = duckdb.connect()
    root = clean.out
    typed = {
        "customers": f"read_csv('{root}/{GLOBS['customers']}', header=true, types={{'date_of_birth': 'DATE', "
        "'registration_date': 'TIMESTAMP', 'number_of_children': 'INTEGER', 'annual_income': 'DOUBLE'})",
        "transactions": f"read_csv('{root}/{GLOBS['transactions']}', header=true, "
        "types={'amount': 'DOUBLE', 'transaction_ts': 'TIMESTAMP'})",
        "products": f"read_json('{root}/{GLOBS['products']}', format='array')",
        "orders": f"read_json('{root}/{GLOBS['orders']}', format='newline_delimited', "
        "columns={order_id: 'VARCHAR', order_date: 'TIMESTAMP', total_amount: 'DECIMAL(12,2)'})",
        "order_line_items": f"read_json('{root}/{GLOBS['order_line_items']}', format='newline_delimited')",
        "web_events": f"read_json('{root}/{GLOBS['web_events']}', format='newline_delimited', "
        "columns={activity_uuid: 'UUID', activity_ts: 'TIMESTAMP', quantity: 'INTEGER'})",
    }
    for source, relation in typed.items():
        count = con.execute(f"select count(*) from {relation}").fetchone()[0]
        assert count == len(all_records(root, source)), source
